"""ExampleIdP's SAML app document to idpsync's trust and back (the vendor knowledge)::

{"id": "app1", "name": "...", "signOnMode": "SAML_2_0",
 "saml": {"audience": "<SP entity ID>", "defaultAcs": "<url>",
          "acs": [{"url": "<url>", "index": 0}, ...], ...},
 ...every other field, kept as it is}
"""

from __future__ import annotations

import copy
from typing import Any

from agent.model import AppTrust, Capabilities, TrustedAcs
from connectors.kit.codec import Decoded, Doc, UnsupportedApp

MAX_ACS = 50  # ExampleIdP's documented limit, declared so the core checks it while planning


class ExampleCodec:
    def decode(self, doc: Doc) -> Decoded:
        saml = doc.get("saml")
        if doc.get("signOnMode") != "SAML_2_0" or not isinstance(saml, dict):
            raise UnsupportedApp(f"signOnMode {doc.get('signOnMode')!r} is not SAML_2_0")
        entries = saml.get("acs", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise UnsupportedApp("saml.acs is not a list of objects")
        acs = tuple(TrustedAcs(str(e["url"]), e.get("index")) for e in entries)
        return Decoded(
            trust=AppTrust(saml.get("audience"), acs, saml.get("defaultAcs")),
            capabilities=Capabilities(multi_acs=True, max_acs=MAX_ACS),
            kind="saml",
            label=str(doc.get("name", "")),
        )

    def encode(self, doc: Doc, trust: AppTrust) -> Doc:
        self.decode(doc)  # refuses what it does not manage
        if len(trust.acs) > MAX_ACS:
            raise UnsupportedApp(f"an app holds at most {MAX_ACS} ACS URLs")
        new = copy.deepcopy(doc)
        saml: dict[str, Any] = new["saml"]
        old = {e["url"]: e for e in saml.get("acs", [])}
        entries = []
        for acs in trust.acs:
            entry = {**old.get(acs.url, {}), "url": acs.url}  # an entry's own extras stay
            entry.pop("index", None)
            if acs.index is not None:
                entry["index"] = acs.index
            entries.append(entry)
        saml.update(audience=trust.entity_id, acs=entries, defaultAcs=trust.default_acs)
        return new
