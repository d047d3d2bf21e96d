"""Check 5: from where idpsync runs, do each Region's sign-in hosts resolve and accept TLS?

Per Region: ``{r}.signin.aws`` (IPv4 ACS/sign-in), ``{r}.sso.signin.aws`` (dual-stack), and
the access-portal hosts ``{instance}.{r}.portal.amazonaws.com`` and
``{instance}.portal.{r}.app.aws``; for the primary also ``{d-id}.awsapps.com``. Only a TLS
handshake is made: no HTTP request, no credentials.

:class:`Dialer` is the seam for tests: its ``resolver`` and ``port`` decide where a host's
connection really goes (tests point every host at a local server on 127.0.0.1) and its
``ssl_context`` which CAs are trusted (tests use a local CA). The probe uses it too.
Behind an HTTPS proxy (``HTTPS_PROXY``/``NO_PROXY``, as boto3 honours them) the TLS
connection is tunnelled with ``CONNECT`` and the name is resolved by the proxy, so a host
that only the proxy can resolve is not reported as broken.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from agent.doctor.result import Check, CheckResult, Status

Resolver = Callable[[str], list[str]]

_IDENTITY_STORE = re.compile(r"/(?P<id>d-[0-9a-f]{10})$")


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), via the system resolver."""
    infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class ProxyRefused(OSError):
    """The HTTPS proxy answered CONNECT with something other than 200."""


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str | None = field(default=None, repr=False)  # never in a repr or log

    @classmethod
    def from_url(cls, url: str) -> Proxy:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        auth = None
        if parts.username is not None:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + base64.b64encode(token.encode()).decode()
        return cls(parts.hostname or "", parts.port or 8080, auth)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Dialer:
    """Opens TLS connections the way the doctor needs: resolvable, bounded, verifiable."""

    resolver: Resolver = system_resolver
    port: int = 443
    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)
    timeout: float = 5.0
    proxy: Proxy | None = None
    proxy_bypass: Callable[[str], bool] = field(default=lambda host: False)

    @classmethod
    def from_environment(
        cls, *, timeout: float, environ: Mapping[str, str] | None = None
    ) -> Dialer:
        """Direct, or through ``HTTPS_PROXY`` except for ``NO_PROXY`` hosts (like boto3)."""
        proxies = (
            urllib.request.getproxies_environment()
            if environ is None
            else {
                k.lower().removesuffix("_proxy"): v
                for k, v in environ.items()
                if k.lower().endswith("_proxy") and v
            }
        )
        url = proxies.get("https")
        if not url:
            return cls(timeout=timeout)

        no_proxy = [e.strip().lower() for e in proxies.get("no", "").split(",") if e.strip()]

        def bypass(host: str) -> bool:
            host = host.lower()
            return any(
                e == "*" or host == e.lstrip(".") or host.endswith("." + e.lstrip("."))
                for e in no_proxy
            )

        return cls(timeout=timeout, proxy=Proxy.from_url(url), proxy_bypass=bypass)

    def proxied(self, host: str) -> bool:
        return self.proxy is not None and not self.proxy_bypass(host)

    def resolve(self, host: str) -> list[str]:
        return self.resolver(host)

    def connect(self, host: str, port: int | None = None) -> ssl.SSLSocket:
        """A TLS socket to ``host`` (SNI and certificate checked against ``host``)."""
        raw = self._tunnel(host, port) if self.proxied(host) else self._direct(host, port)
        try:
            return self.ssl_context.wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise

    def _direct(self, host: str, port: int | None) -> socket.socket:
        addresses = self.resolve(host)
        if not addresses:
            raise socket.gaierror(f"{host} resolved to no address")
        last: OSError = OSError(f"no address of {host} accepted a connection")
        for address in addresses:
            try:
                return socket.create_connection((address, port or self.port), timeout=self.timeout)
            except OSError as exc:
                last = exc
        raise last

    def _tunnel(self, host: str, port: int | None) -> socket.socket:
        assert self.proxy is not None
        target = f"{host}:{port or 443}"
        sock = socket.create_connection((self.proxy.host, self.proxy.port), timeout=self.timeout)
        try:
            lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
            if self.proxy.authorization:
                lines.append(f"Proxy-Authorization: {self.proxy.authorization}")
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(1024)
                if not chunk or len(head) > 16384:
                    raise ProxyRefused(f"proxy {self.proxy} closed the CONNECT to {target}")
                head += chunk
            status = head.split(b"\r\n", 1)[0].decode("latin-1")
            fields = status.split(" ", 2)
            if len(fields) < 2 or fields[1] != "200":
                raise ProxyRefused(f"proxy {self.proxy} answered {status!r} to CONNECT {target}")
        except BaseException:
            sock.close()
            raise
        return sock


def portal_hosts(instance_id: str, region: str) -> list[str]:
    """The Region's access-portal hosts (domain.md 2.2: no ``/start`` on these)."""
    return [
        f"{instance_id}.{region}.portal.amazonaws.com",
        f"{instance_id}.portal.{region}.app.aws",
    ]


def region_hosts(
    region: str, *, instance_id: str | None, is_primary: bool, entity_id: str | None
) -> list[str]:
    hosts = [f"{region}.signin.aws", f"{region}.sso.signin.aws"]
    if instance_id:
        hosts += portal_hosts(instance_id, region)
    if is_primary and entity_id:
        m = _IDENTITY_STORE.search(entity_id)
        if m:  # the awsapps.com/start portal works in the primary only
            hosts.append(f"{m['id']}.awsapps.com")
    return hosts


def instance_id_from_arn(instance_arn: str | None) -> str | None:
    """``arn:aws:sso:::instance/ssoins-0123...`` → ``ssoins-0123...``."""
    if not instance_arn:
        return None
    return instance_arn.rsplit("/", 1)[-1]


def check_network(
    targets: Sequence[tuple[str, str]], dialer: Dialer, *, workers: int = 16
) -> list[CheckResult]:
    """``targets`` are (region, host) pairs; each is resolved and TLS-handshaken in parallel."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(targets))) as pool:
        return list(pool.map(lambda t: check_host(t[0], t[1], dialer), targets))


def check_host(region: str, host: str, dialer: Dialer) -> CheckResult:
    started = time.monotonic()
    via = f" via proxy {dialer.proxy}" if dialer.proxied(host) else ""
    addresses: list[str] = []
    if not via:  # behind a proxy the proxy resolves the name
        resolved = _resolve(region, host, dialer)
        if isinstance(resolved, CheckResult):
            return resolved
        addresses = resolved
    try:
        with dialer.connect(host) as tls:
            version = tls.version() or "TLS"
    except ProxyRefused as exc:
        return _fail(
            region,
            host,
            f"{host}: {exc}",
            f"Allow CONNECT to {host}:443 on proxy {dialer.proxy}, or list {host} in NO_PROXY "
            "if this host may connect directly.",
        )
    except ssl.SSLCertVerificationError as exc:
        return _fail(
            region,
            host,
            f"{host}: certificate not trusted ({exc.verify_message})",
            f"If a TLS-inspecting proxy sits in the path, add its CA to this host's trust store "
            f"or exempt {host} from inspection.",
        )
    except TimeoutError:
        return _fail(
            region,
            host,
            f"{host}: no TLS connection within {dialer.timeout:g} s{via}",
            f"Allow outbound HTTPS (TCP 443) from this host to {host} through firewalls and "
            "proxies.",
        )
    except (ssl.SSLError, OSError) as exc:
        return _fail(
            region,
            host,
            f"{host}: TLS connection failed{via} ({exc})",
            f"Allow outbound HTTPS (TCP 443) from this host to {host} through firewalls and "
            "proxies.",
        )
    elapsed = (time.monotonic() - started) * 1000
    reached = f"{len(addresses)} address(es)" if not via else via.strip()
    return CheckResult(
        Check.NETWORK,
        Status.OK,
        f"{host}: {reached}, {version} in {elapsed:.0f} ms",
        region=region,
        subject=host,
    )


def _resolve(region: str, host: str, dialer: Dialer) -> list[str] | CheckResult:
    """The host's addresses, or the failed check that says how to make it resolvable."""
    try:
        addresses = dialer.resolve(host)
        if not addresses:
            raise socket.gaierror(f"{host} resolved to no address")
    except OSError as exc:
        return _fail(
            region,
            host,
            f"{host} does not resolve ({exc})",
            f"Make {host} resolvable from this host (check DNS, split-horizon zones and "
            "any resolver allow-list).",
        )
    return addresses


def _fail(region: str, host: str, message: str, fix: str) -> CheckResult:
    return CheckResult(Check.NETWORK, Status.FAIL, message, fix=fix, region=region, subject=host)
