"""The Entra codec: :mod:`connectors.entra.mapping`'s pure functions in the kit's contract.

``decode`` reads the trust and Entra's limits (``mapping.CAPABILITIES``) from an application
document; ``encode`` writes a trust into a copy of it (``mapping.apply_trust``: fields
idpsync does not own untouched) and refuses one Entra cannot hold
(``mapping.limit_violations``, which the core also checks while planning).
"""

from __future__ import annotations

from agent.model import AppTrust
from connectors.entra import mapping
from connectors.entra.config import IDC_TEMPLATE_ID
from connectors.kit.codec import Decoded, Doc, UnsupportedApp


class EntraCodec:
    """Graph ``application`` JSON to idpsync's trust and back."""

    def decode(self, doc: Doc) -> Decoded:
        trust, capabilities = mapping.trust_from_raw(doc)
        kind = "idc_gallery" if doc.get("applicationTemplateId") == IDC_TEMPLATE_ID else "saml"
        return Decoded(
            trust=trust,
            capabilities=capabilities,
            kind=kind,
            label=str(doc.get("displayName") or ""),
        )

    def encode(self, doc: Doc, trust: AppTrust) -> Doc:
        problems = mapping.limit_violations(trust)
        if problems:
            raise UnsupportedApp("; ".join(problems))
        return mapping.apply_trust(doc, trust)
