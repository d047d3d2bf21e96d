"""Loopback fakes for ``idpsync doctor`` tests.

* :class:`LocalCA` makes a throw-away CA and server certificates with ``cryptography``.
* :class:`FakePortal` is a real HTTPS server on 127.0.0.1 that stands in for every AWS
  sign-in and portal host (the doctor's resolver maps them all to 127.0.0.1): a Region's
  portal URL 302-redirects to ``{region}.signin.aws``, which 302-redirects to a fake IdP URL
  carrying a real deflate+base64 SAMLRequest built by python3-saml.
* :func:`silent_listener` accepts TCP but never speaks TLS (a firewall that black-holes).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.settings import OneLogin_Saml2_Settings

ENTITY_ID = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
IDP_SSO_URL = "https://idp.example.test/app/amazon_aws_sso/exk1/sso/saml"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class LocalCA:
    """A CA that exists only for one test session."""

    def __init__(self, cn: str = "idpsync doctor test CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(_name(cn))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def client_context(self) -> ssl.SSLContext:
        """What the doctor trusts in tests: this CA only."""
        return ssl.create_default_context(cadata=self.pem)

    def server_context(self, hosts: list[str], directory: Path) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hosts[0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_file = directory / "server.pem"
        key_file = directory / "server.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        return ctx


def authn_request(acs_url: str, *, deflate: bool = True) -> str:
    """A real AuthnRequest from python3-saml, encoded for the redirect (deflate) or POST binding."""
    settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": ENTITY_ID,
                "assertionConsumerService": {
                    "url": acs_url,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
            },
            "idp": {
                "entityId": "http://www.okta.com/exk1",
                "singleSignOnService": {
                    "url": IDP_SSO_URL,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "x509cert": "",
            },
        },
        sp_validation_only=True,
    )
    value: str = OneLogin_Saml2_Authn_Request(settings).get_request(deflate=deflate)
    return value


@dataclass
class PortalBehaviour:
    """How the fake answers for one Region."""

    acs_url: str | None = None  # the ACS the AuthnRequest names
    binding: str = "redirect"  # "redirect", "post" or "none" (200 page, no SAMLRequest)
    status: int = 302  # the portal's first answer (e.g. 503)


@dataclass
class FakePortal:
    """Every AWS host the doctor dials, served by one HTTPS server on 127.0.0.1."""

    instance_id: str
    behaviours: dict[str, PortalBehaviour] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").split(":")[0]
                portal.requests.append((host, self.path, dict(self.headers.items())))
                region = _region_of(host, portal.instance_id)
                behaviour = portal.behaviours.get(region or "", PortalBehaviour())
                if host.endswith(".portal.amazonaws.com"):
                    if behaviour.status != 302:
                        self._send(behaviour.status, "unavailable")
                        return
                    self._redirect(f"https://{region}.signin.aws/platform/login?r={region}")
                elif host.endswith(".signin.aws") and self.path.startswith("/platform/login"):
                    self._signin(behaviour)
                else:
                    self._send(404, "not found")

            def _signin(self, behaviour: PortalBehaviour) -> None:
                if behaviour.binding == "none" or behaviour.acs_url is None:
                    self._send(200, "<html><body>Please enable JavaScript</body></html>")
                elif behaviour.binding == "post":
                    value = authn_request(behaviour.acs_url, deflate=False)
                    self._send(
                        200,
                        f'<html><body><form method="post" action="{IDP_SSO_URL}">'
                        f'<input type="hidden" name="SAMLRequest" value="{value}"/>'
                        "</form></body></html>",
                    )
                else:
                    value = quote(authn_request(behaviour.acs_url), safe="")
                    self._redirect(f"{IDP_SSO_URL}?SAMLRequest={value}&RelayState=x")

            def _redirect(self, location: str) -> None:
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _region_of(host: str, instance_id: str) -> str | None:
    if host.startswith(instance_id + "."):
        return host.split(".")[1]
    if host.endswith(".signin.aws"):
        return host.split(".")[0]
    return None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # handshakes the doctor abandons on purpose are not errors


@contextlib.contextmanager
def serve_portal(portal: FakePortal, ca: LocalCA, hosts: list[str]) -> Iterator[FakePortal]:
    """Serve ``portal`` over HTTPS on 127.0.0.1 with a certificate for ``hosts``."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ca.server_context(hosts, Path(tmp))
        server = _QuietServer(("127.0.0.1", 0), portal.handler())
        server.socket = ctx.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        portal.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield portal
        finally:
            server.shutdown()
            server.server_close()


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections (kernel backlog) but never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class ConnectProxy:
    """A minimal HTTPS proxy: answers CONNECT, then pipes bytes to the upstream port.

    Every tunnel goes to 127.0.0.1:``upstream_port`` whatever host was asked for (the proxy
    "resolves" names, as a real one would); hosts in ``deny`` get 403.
    """

    upstream_port: int
    deny: set[str] = field(default_factory=set)
    connects: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0


@contextlib.contextmanager
def serve_proxy(proxy: ConnectProxy) -> Iterator[ConnectProxy]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.2)
    proxy.port = listener.getsockname()[1]
    stop = threading.Event()

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def handle(client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(1024)
                if not chunk:
                    return
                head += chunk
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            proxy.connects.append((target, headers))
            if target.rsplit(":", 1)[0] in proxy.deny:
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            upstream = socket.create_connection(("127.0.0.1", proxy.upstream_port))
            with upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
                back.start()
                pipe(client, upstream)
                back.join(timeout=5)

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
