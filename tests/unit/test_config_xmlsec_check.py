"""The start-up check for the lxml / xmlsec libxml2 mismatch trap."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from lxml import etree

from agent.xmlsec_check import XmlsecMismatch, check_xmlsec


def test_installed_pair_agrees() -> None:
    assert "agree" in check_xmlsec()


def test_mismatched_libxml2_is_a_clear_error() -> None:
    other = (*etree.LIBXML_VERSION[:2], etree.LIBXML_VERSION[2] + 1)
    fake = SimpleNamespace(get_libxml_version=lambda: other)
    with pytest.raises(XmlsecMismatch) as info:
        check_xmlsec(lambda: fake)
    assert "xmlsec uses libxml2" in str(info.value) and "lxml uses" in str(info.value)


def test_xmlsec_import_failure_is_a_clear_error() -> None:
    def broken() -> object:
        raise ImportError("lxml & xmlsec libxml2 library version mismatch")

    with pytest.raises(XmlsecMismatch, match="cannot import xmlsec"):
        check_xmlsec(broken)
