"""Check 5: from where idpsync runs, do each Region's sign-in hosts resolve and accept TLS?

Per Region: ``{r}.signin.aws`` (IPv4 ACS/sign-in), ``{r}.sso.signin.aws`` (dual-stack), and
the access-portal hosts ``{instance}.{r}.portal.amazonaws.com`` and
``{instance}.portal.{r}.app.aws``; for the primary also ``{d-id}.awsapps.com``. Only a TLS
handshake is made: no HTTP request, no credentials.

:class:`Dialer` is the seam for tests: its ``resolver`` and ``port`` decide where a host's
connection really goes (tests point every host at a local server on 127.0.0.1) and its
``ssl_context`` which CAs are trusted (tests use a local CA). The probe uses it too.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from agent.doctor.result import Check, CheckResult, Status

Resolver = Callable[[str], list[str]]

_IDENTITY_STORE = re.compile(r"/(?P<id>d-[0-9a-f]{10})$")


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), via the system resolver."""
    infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Dialer:
    """Opens TLS connections the way the doctor needs: resolvable, bounded, verifiable."""

    resolver: Resolver = system_resolver
    port: int = 443
    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)
    timeout: float = 5.0

    def resolve(self, host: str) -> list[str]:
        return self.resolver(host)

    def connect(self, host: str, port: int | None = None) -> ssl.SSLSocket:
        """A TLS socket to ``host`` (SNI and certificate checked against ``host``)."""
        addresses = self.resolve(host)
        if not addresses:
            raise socket.gaierror(f"{host} resolved to no address")
        last: OSError | None = None
        for address in addresses:
            try:
                raw = socket.create_connection((address, port or self.port), timeout=self.timeout)
            except OSError as exc:
                last = exc
                continue
            try:
                return self.ssl_context.wrap_socket(raw, server_hostname=host)
            except BaseException:
                raw.close()
                raise
        assert last is not None
        raise last


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
    try:
        addresses = dialer.resolve(host)
        if not addresses:
            raise socket.gaierror(f"{host} resolved to no address")
    except OSError as exc:
        return _fail(
            region,
            host,
            f"{host} does not resolve ({exc})",
            f"Make {host} resolvable from this host (check DNS, split-horizon zones and any "
            "resolver allow-list).",
        )
    try:
        with dialer.connect(host) as tls:
            version = tls.version() or "TLS"
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
            f"{host}: no TLS connection within {dialer.timeout:g} s",
            f"Allow outbound HTTPS (TCP 443) from this host to {host} through firewalls and "
            "proxies.",
        )
    except (ssl.SSLError, OSError) as exc:
        return _fail(
            region,
            host,
            f"{host}: TLS connection failed ({exc})",
            f"Allow outbound HTTPS (TCP 443) from this host to {host} through firewalls and "
            "proxies.",
        )
    elapsed = (time.monotonic() - started) * 1000
    return CheckResult(
        Check.NETWORK,
        Status.OK,
        f"{host}: {len(addresses)} address(es), {version} in {elapsed:.0f} ms",
        region=region,
        subject=host,
    )


def _fail(region: str, host: str, message: str, fix: str) -> CheckResult:
    return CheckResult(Check.NETWORK, Status.FAIL, message, fix=fix, region=region, subject=host)
