"""The idpsync exception tree.

Every error idpsync raises on purpose derives from :class:`IdpSyncError`; SDK and library
exceptions are translated into this tree once, at the boundary where they occur
(``raise ... from exc``), and logged once, at the top (CLI or service loop)::

    IdpSyncError
      ConfigError(path, key)            bad YAML or values, with the fix
      SourceError(source)               metadata or Region list unavailable or invalid
        UntrustedMetadata(url)          an ACS URL or entity ID failed validation
      ConnectorError(target, status, request_id)
        AuthError
        RateLimited(retry_after)
        Conflict                        the app changed between observe and apply
        NotSupported                    the app cannot hold what the plan asks for
        VerificationFailed              the read-back after a write differs from the plan
      UnsafePlan(violations)            the safety checks refused a plan
      StalePlan                         an approved plan no longer matches live state
      StateStoreError                   the state database is unreachable or damaged

No message or ``repr`` ever carries a secret: credentials are referenced by the name of
the environment variable or file that holds them, certificates by their fingerprint.
"""

from __future__ import annotations

from collections.abc import Sequence


class IdpSyncError(Exception):
    """Root of every error idpsync raises deliberately."""


class ConfigError(IdpSyncError):
    """The configuration file is missing, unreadable or invalid.

    ``path`` is the file, ``key`` the dotted key path (``targets[0].apps[1].id``).
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        prefix = ""
        if path:
            prefix += f"{path}: "
        if key:
            prefix += f"{key}: "
        super().__init__(prefix + message)


class SourceError(IdpSyncError):
    """A metadata source or the Region list could not be read or is invalid."""

    def __init__(self, message: str, *, source: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


class UntrustedMetadata(SourceError):
    """An ACS URL or entity ID in the metadata failed validation; nothing from it is used."""

    def __init__(self, message: str, *, source: str, url: str | None = None) -> None:
        self.url = url
        super().__init__(message, source=source)


class ConnectorError(IdpSyncError):
    """An IdP API call failed. ``status`` and ``request_id`` come from the IdP when known."""

    def __init__(
        self,
        message: str,
        *,
        target: str,
        status: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        self.target = target
        self.status = status
        self.request_id = request_id
        self.code = code
        detail = []
        if status is not None:
            detail.append(f"HTTP {status}")
        if code:
            detail.append(code)
        if request_id:
            detail.append(f"request id {request_id}")
        suffix = f" ({', '.join(detail)})" if detail else ""
        super().__init__(f"{target}: {message}{suffix}")


class AuthError(ConnectorError):
    """Credentials were missing, rejected or lacked a permission."""


class RateLimited(ConnectorError):
    """The IdP kept answering 429 after the retry budget was spent."""

    def __init__(
        self,
        message: str,
        *,
        target: str,
        retry_after: float | None = None,
        status: int | None = 429,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, target=target, status=status, request_id=request_id, code=code)


class Conflict(ConnectorError):
    """The app changed between observe and apply; the write was not made."""


class NotSupported(ConnectorError):
    """The app cannot hold what the plan asks for (for example, a second ACS URL)."""


class VerificationFailed(ConnectorError):
    """The app read back after a write does not match the plan."""


class UnsafePlan(IdpSyncError):
    """The safety checks refused a plan. ``violations`` lists every reason, not just the first."""

    def __init__(self, violations: Sequence[str]) -> None:
        self.violations = tuple(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"plan refused by {len(self.violations)} safety check(s):\n{lines}")


class StalePlan(IdpSyncError):
    """An approved plan no longer matches live state (fingerprint or desired digest moved)."""


class StateStoreError(IdpSyncError):
    """The state database (``state.url``) is unreachable, locked or damaged.

    The message names the database with its password hidden.
    """
