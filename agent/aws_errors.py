"""What kind of AWS failure an exception is: no credentials, rejected ones, or denied.

The three need different fixes (give the host credentials; refresh them; grant a
permission), so ``doctor`` and the findings name the kind instead of a bare error code.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
)

NO_CREDENTIALS = "no_credentials"
CREDENTIALS_REJECTED = "credentials_rejected"
ACCESS_DENIED = "access_denied"
OTHER = "other"

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_REJECTED = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
}
_MISSING = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    SSOError,
    TokenRetrievalError,
)


def failure_kind(exc: BaseException) -> str:
    """One of :data:`NO_CREDENTIALS`, :data:`CREDENTIALS_REJECTED`, :data:`ACCESS_DENIED`,
    :data:`OTHER`."""
    if isinstance(exc, _MISSING):
        return NO_CREDENTIALS
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _DENIED:
            return ACCESS_DENIED
        if code in _REJECTED:
            return CREDENTIALS_REJECTED
    return OTHER
