"""A deliberately broken variant: its codec rebuilds the app from the managed fields only,
dropping everything else. The contract suite must fail for it (it proves the suite can)."""

from __future__ import annotations

from idpsync_example.codec import ExampleCodec
from idpsync_example.connector import ExampleConnector

from agent.model import AppTrust
from connectors.kit.codec import Doc


class LossyCodec(ExampleCodec):
    def encode(self, doc: Doc, trust: AppTrust) -> Doc:
        full = super().encode(doc, trust)
        managed = {k: full["saml"][k] for k in ("audience", "acs", "defaultAcs")}
        return {"id": doc["id"], "name": doc["name"], "signOnMode": "SAML_2_0", "saml": managed}


class LossyConnector(ExampleConnector):
    codec = LossyCodec()
