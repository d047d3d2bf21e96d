"""The fakes (Okta, Graph, an HTTPS metadata server) in a child process, driven over a pipe.

A separate process keeps the fakes' request handling off idpsync's GIL: on a 2-core machine
the fakes and the client then each get a core, as they would against real IdPs. The parent
seeds the state, resets logs and budgets between runs, and reads per-kind request counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import ssl
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.benchmarks import scenario as sc
from tests.benchmarks.scenario import Scenario


@dataclass(frozen=True)
class Endpoints:
    okta_url: str
    graph_url: str
    graph_tenant: str
    metadata_url: str
    ca_file: str
    okta_ids: tuple[str, ...]
    entra_ids: tuple[str, ...]  # appIds
    entra_object_ids: tuple[str, ...]


# --- metadata over HTTPS with ETag -------------------------------------------------------


class MetadataServer:
    """Serves one document at /metadata.xml with a strong ETag; If-None-Match gives 304."""

    def __init__(self, workdir: Path) -> None:
        self.body = b""
        self.etag = ""
        self.statuses: Counter[int] = Counter()
        cert, key = _tls_files(workdir)
        self.ca_file = str(cert)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.headers.get("If-None-Match") == server.etag:
                    server.statuses[304] += 1
                    self.send_response(304)
                    self.send_header("ETag", server.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                server.statuses[200] += 1
                self.send_response(200)
                self.send_header("ETag", server.etag)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/metadata.xml"

    def publish(self, body: bytes) -> None:
        self.body = body
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


LOOPBACK = "127.0.0.1"


def _tls_files(workdir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA bundle for the client)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from tests.certs import private_pem, self_signed

    now = dt.datetime.now(dt.UTC)
    key, cert = self_signed(
        LOOPBACK,
        now - dt.timedelta(days=1),
        now + dt.timedelta(days=7),
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                False,
            ),
        ],
    )
    cert_path, key_path = workdir / "tls-cert.pem", workdir / "tls-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(private_pem(key))
    return cert_path, key_path


# --- the child process ---------------------------------------------------------------------


class _Fakes:
    def __init__(self, s: Scenario, workdir: Path) -> None:
        from tests.fakes.graph_fake import GraphFake
        from tests.fakes.okta_fake import OktaFake

        self.s = s
        self.okta = OktaFake(
            api_tokens={sc.OKTA_TOKEN},
            latency=s.latency,
            concurrency_cap=s.okta_cap,
            bucket_limits=dict(s.okta_buckets),
            bucket_window=s.okta_window,
        ).start()
        self.graph = GraphFake(latency=s.latency).start()
        self.graph.expected_token = sc.GRAPH_TOKEN
        self.metadata = MetadataServer(workdir)
        self.metadata.publish(sc.metadata_xml(s.regions_after))
        self.cpu_mark = time.process_time()

    def seed(self) -> Endpoints:
        s = self.s
        before_okta = sc.trust(s.regions_before, indexed=True)
        before_entra = sc.trust(s.regions_before, indexed=False)
        cert_b64, thumb = sc.signing_certificate()
        okta_ids = []
        for n in range(s.okta_apps):
            kid = f"benchkid{n:08d}"  # every app its own signing key: the worst case
            doc = sc.okta_app(n, before_okta, kid)
            okta_ids.append(self.okta.add_app(doc, keys=sc.okta_keys(kid, cert_b64)))
        entra_ids, object_ids = [], []
        settings = [{"uri": a.url, "index": a.index} for a in before_entra.acs]
        for n in range(s.entra_apps):
            app = self.graph.add_app(
                display_name=f"{sc.LABEL} {n}",
                identifier_uris=[sc.ENTITY_ID],
                redirect_uris=list(before_entra.urls()),
                redirect_uri_settings=settings,
                default_redirect_uri=before_entra.default_acs,
                sso_mode="saml",
                key_credentials=[sc.entra_key_credential(cert_b64, thumb, n)],
                preferred_thumbprint=thumb,
            )
            entra_ids.append(app["appId"])
            object_ids.append(app["id"])
        self._index_graph()
        self._seeded = (sc.deep(self.okta.apps), sc.deep(self.graph.objects))
        return Endpoints(
            okta_url=self.okta.base_url,
            graph_url=self.graph.base_url,
            graph_tenant=self.graph.tenant_id,
            metadata_url=self.metadata.url,
            ca_file=self.metadata.ca_file,
            okta_ids=tuple(okta_ids),
            entra_ids=tuple(entra_ids),
            entra_object_ids=tuple(object_ids),
        )

    def _index_graph(self) -> None:
        """The fake finds objects by a linear scan; at 5,000 apps that is the fake's own
        bottleneck, not Graph's. Look ids up in a dict instead (same semantics)."""
        from tests.fakes import graph_fake

        fake = self.graph
        index: dict[tuple[str, str, bool], Any] = {}
        for collection, objects in fake.objects.items():
            for obj in objects.values():
                doc = obj.latest()
                index[(collection, doc["appId"], True)] = obj
                index[(collection, doc["id"], False)] = obj
        original = graph_fake.GraphFake._find

        def find(collection: str, ident: str, *, by_app_id: bool) -> Any:
            obj = index.get((collection, ident, by_app_id))
            return (
                obj if obj is not None else original(fake, collection, ident, by_app_id=by_app_id)
            )

        fake._find = find  # type: ignore[method-assign]

    def publish(self, regions: int) -> None:
        """Serve metadata for ``regions`` Regions (a new ETag when it changes)."""
        self.metadata.publish(sc.metadata_xml(regions))

    def applied(self, regions: int) -> int:
        """How many apps (both IdPs) now hold exactly the trust of ``regions`` Regions."""
        okta = sc.trust(regions, indexed=True)
        entra = set(sc.trust(regions, indexed=False).urls())
        from connectors.okta import mapping

        with self.okta.lock:
            done = sum(mapping.apply_trust(d, okta) == d for d in self.okta.apps.values())
        with self.graph.lock:
            apps = self.graph.objects["applications"].values()
            done += sum(set(a.latest()["web"]["redirectUris"]) == entra for a in apps)
        return int(done)

    def restore(self) -> None:
        """Put every app back to its seeded (drifted) state."""
        okta, graph = self._seeded
        with self.okta.lock:
            self.okta.apps = sc.deep(okta)
        with self.graph.lock:
            self.graph.objects = sc.deep(graph)
        self._index_graph()

    def reset(self) -> None:
        """Fresh logs and full rate-limit budgets: every run starts from the same place."""
        self.okta.reset_log()
        self.okta._buckets.clear()
        self.okta.max_in_flight = 0
        self.graph.clear_log()
        self.graph.rate_limit(self.s.graph_capacity, self.s.graph_refill)
        self.graph.write_limit(sc.GRAPH_WRITES, sc.GRAPH_WRITES_WINDOW)
        self.metadata.statuses.clear()
        self.cpu_mark = time.process_time()

    def stats(self) -> dict[str, Any]:
        okta: Counter[str] = Counter()
        okta_429 = 0
        throttled: dict[str, Counter[str]] = {"okta": Counter(), "entra": Counter()}
        for r in list(self.okta.requests):
            kind = self.okta.bucket_of(r.method, r.path)
            if kind == "app":  # one Okta bucket; the benchmark still counts reads and writes
                kind = "put" if r.method == "PUT" else "get"
            okta[kind] += 1
            okta_429 += r.status == 429
            throttled["okta"][kind] += r.status == 429
        graph: Counter[str] = Counter()
        graph_429 = 0
        for g in list(self.graph.requests):
            if g.method == "POST" and g.path == "/v1.0/$batch":
                kind = "batch"  # an envelope: its sub-requests are counted on their own
            elif g.method != "GET":
                kind = g.method.lower()
            elif g.path.rstrip("/").endswith(("/applications", "/servicePrincipals")):
                kind = "list"
            else:
                kind = "get"
            graph[kind] += 1
            graph_429 += g.status == 429
            throttled["entra"][kind] += g.status == 429
        return {
            "okta": dict(okta),
            "okta_429": okta_429,
            "okta_max_in_flight": self.okta.max_in_flight,
            "entra": dict(graph),
            "entra_429": graph_429,
            # per IdP and kind: the requests answered 429 (the rate-limit target counts them)
            "throttled": {idp: {k: n for k, n in c.items() if n} for idp, c in throttled.items()},
            "metadata": {str(k): v for k, v in self.metadata.statuses.items()},
            "fakes_cpu_seconds": round(time.process_time() - self.cpu_mark, 3),
        }

    def stop(self) -> None:
        self.okta.stop()
        self.graph.stop()
        self.metadata.httpd.shutdown()


def _serve(conn: Any, s: Scenario, workdir: str) -> None:
    fakes = _Fakes(s, Path(workdir))
    try:
        while True:
            command, *args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            conn.send(getattr(fakes, command)(*args))
    finally:
        fakes.stop()


class Fakes:
    """Parent-side handle: ``with Fakes(scenario) as f: f.seed(); f.reset(); f.stats()``."""

    def __init__(self, s: Scenario) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="idpsync-bench-")
        self.workdir = Path(self._tmp.name)
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(child, s, self._tmp.name), name="idpsync-bench-fakes"
        )
        self._proc.start()

    def _call(self, command: str, *args: Any) -> Any:
        self._conn.send((command, *args))
        if not self._conn.poll(600):
            raise RuntimeError(f"the fakes process did not answer {command!r}")
        return self._conn.recv()

    def seed(self) -> Endpoints:
        result: Endpoints = self._call("seed")
        return result

    def reset(self) -> None:
        self._call("reset")

    def restore(self) -> None:
        self._call("restore")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("stats")
        return result

    def publish(self, regions: int) -> None:
        self._call("publish", regions)

    def applied(self, regions: int) -> int:
        result: int = self._call("applied", regions)
        return result

    def close(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self._call("stop")
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()
        self._tmp.cleanup()

    def __enter__(self) -> Fakes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def isolate_environment(home: Path) -> None:
    """The Okta SDK reads OKTA_* variables, ~/.okta and ./okta.yaml, and both SDKs honour
    proxy variables: none of that may reach a benchmark against loopback fakes."""
    for name in list(os.environ):
        if name.startswith(("OKTA_", "AZURE_")) or name.lower().endswith("_proxy"):
            del os.environ[name]
    home.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(home)
    os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"
    os.chdir(home)
