"""Test-wide safety: no test may see the developer's own credentials or config files.

The okta SDK reads OKTA_* variables and ~/.okta/okta.yaml, azure-identity reads AZURE_*,
boto3 reads AWS_* and ~/.aws. We scrub them at import time, before any SDK is imported by
a test module, and point HOME at an empty directory.
"""

from __future__ import annotations

import os
import tempfile

_SCRUB_PREFIXES = ("OKTA_", "AZURE_", "AWS_", "MSAL_", "GRAPH_", "IDENTITY_ENDPOINT", "MSI_")

for _name in list(os.environ):
    if _name.startswith(_SCRUB_PREFIXES):
        del os.environ[_name]

_HOME = tempfile.mkdtemp(prefix="idpsync-test-home-")
os.environ["HOME"] = _HOME
os.environ["AWS_CONFIG_FILE"] = os.path.join(_HOME, "aws-config-absent")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(_HOME, "aws-credentials-absent")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "false"
