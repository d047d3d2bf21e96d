"""Start-up check for the lxml / xmlsec libxml2 mismatch trap (domain.md 6).

python3-saml needs ``xmlsec`` built against the same libxml2 as ``lxml``; otherwise
``import xmlsec`` fails or signature checks misbehave in confusing ways. This check turns
that into one clear error at start-up.
"""

from __future__ import annotations

from types import ModuleType

from lxml import etree

from agent.errors import IdpSyncError


class XmlsecMismatch(IdpSyncError):
    """xmlsec is missing or was built against a different libxml2 than lxml."""


def _import_xmlsec() -> ModuleType:
    import xmlsec

    return xmlsec


def check_xmlsec(importer: object = None) -> str:
    """Return a one-line description of the libxml2 pair, or raise :class:`XmlsecMismatch`.

    ``importer`` is a test seam: a callable returning the xmlsec module.
    """
    load = importer if callable(importer) else _import_xmlsec
    try:
        xmlsec = load()
    except ImportError as exc:
        raise XmlsecMismatch(
            f"cannot import xmlsec ({exc}). Reinstall it against lxml's libxml2: "
            "pip install --force-reinstall --no-binary lxml,xmlsec lxml xmlsec"
        ) from exc
    lxml_version = tuple(etree.LIBXML_VERSION)
    xmlsec_version = tuple(xmlsec.get_libxml_version())
    if lxml_version != xmlsec_version:
        raise XmlsecMismatch(
            f"xmlsec uses libxml2 {_v(xmlsec_version)} but lxml uses {_v(lxml_version)}; "
            "signature checks would misbehave. Install a matching pair (known good: "
            "lxml 6.1.3 + xmlsec 1.3.17, both on libxml2 2.14.6)"
        )
    return f"libxml2 {_v(lxml_version)} (lxml and xmlsec agree)"


def _v(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)
