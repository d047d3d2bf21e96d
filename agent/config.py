"""Configuration: YAML validated by pydantic v2 models, errors that name file, key and fix.

``load_config(path)`` is the one loader; ``idpsync validate-config`` runs it unchanged.
Every model forbids unknown keys. Secrets are never inline: they are referenced by the
name of an environment variable (``*_env``) or a file (``*_file``). Connector target
sections are validated by the connector's own ``config_model`` (found through the
entry-point registry), so third-party connectors get the same treatment as built-ins.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from agent.bookmark_config import BookmarksConfig, check_bookmarks
from agent.config_checks import URL_CREDENTIALS_HELP, check_references, has_userinfo
from agent.config_yaml import load_yaml
from agent.connector import TargetConfig, exactly_one
from agent.durations import DAY, SECOND, durations_within
from agent.errors import ConfigError
from agent.events.config import EventsConfig
from agent.model import Stack
from agent.textsafe import redact_userinfo
from agent.tickets.config import TicketBackendConfig

_TOO_DEEP = "the file is nested too deeply to be an idpsync configuration"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetadataSource(_Strict):
    """Exactly one of ``file``, ``url``, ``s3`` (and optional integrity settings)."""

    file: str | None = None
    url: str | None = None
    s3: str | None = None
    sha256: str | None = Field(
        default=None, description="pin the file's SHA-256 (hex); a different file is rejected"
    )
    max_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    timeout: float = Field(default=10.0, gt=0, le=300)
    region: str | None = Field(default=None, description="AWS Region of the S3 bucket")
    ca_bundle: str | None = Field(
        default=None, description="PEM CA bundle for url: (default: the system trust store)"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> MetadataSource:
        exactly_one(self, ("file", "url", "s3"), entry="each metadata source")
        for value in (self.url, self.s3):
            if value is not None and has_userinfo(value):
                raise ValueError(URL_CREDENTIALS_HELP)
        if self.url is not None and not self.url.startswith("https://"):
            raise ValueError(f"url must use https:// (got {redact_userinfo(self.url)!r})")
        if self.s3 is not None and not self.s3.startswith("s3://"):
            raise ValueError(
                f"s3 must look like s3://bucket/key (got {redact_userinfo(self.s3)!r})"
            )
        return self

    @property
    def label(self) -> str:
        """How the source is named in findings, logs and the last-good cache (never with
        user information, even though the loader refuses it)."""
        return redact_userinfo(self.file or self.url or self.s3 or "?")


class SignatureConfig(_Strict):
    """Optional XML signature check of the metadata against a pinned certificate."""

    cert_file: str = Field(description="PEM certificate that must have signed the metadata")
    required: bool = True


class IdentityCenterConfig(_Strict):
    primary_region: str
    instance_arn: str | None = None
    api_regions: list[str] = Field(default_factory=list)
    metadata: list[MetadataSource] = Field(min_length=1)
    stacks: list[Stack] = Field(default_factory=lambda: [Stack.IPV4, Stack.DUALSTACK])
    extra_regions: list[str] = Field(
        default_factory=list, description="Regions too new for botocore's partition data"
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="regular expressions (full match) for ACS hosts; default: the AWS patterns",
    )
    default_stack: Literal["ipv4", "dualstack"] = "ipv4"
    keep_legacy: bool = Field(default=True, description="keep the legacy primary ACS URL")
    signature: SignatureConfig | None = None
    cache_dir: str | None = Field(
        default=None,
        description="where last-good metadata copies are kept (fail-static); default "
        ".idpsync-cache beside the config file, or in IDPSYNC_STATE_DIR when set",
    )
    certificate_warning_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="warn when a metadata certificate expires within N days",
    )

    @field_validator("instance_arn")
    @classmethod
    def _arn(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(
            r"arn:aws[a-z-]*:sso:::instance/ssoins-[0-9a-f]{16}", v
        ):
            raise ValueError(
                "instance_arn must look like arn:aws:sso:::instance/ssoins-<16 hex digits>"
            )
        return v

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                rx = re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"allowed_hosts pattern {pattern!r} is not a regex: {exc}"
                ) from None
            if "region" not in rx.groupindex:
                raise ValueError(
                    f"allowed_hosts pattern {pattern!r} needs a (?P<region>...) group; "
                    "name a group dualstack or legacy to mark those stacks"
                )
        return v

    @field_validator("stacks")
    @classmethod
    def _stacks(cls, v: list[Stack]) -> list[Stack]:
        if not v:
            raise ValueError("stacks needs at least one of ipv4, dualstack")
        if Stack.LEGACY in v:
            raise ValueError("stacks takes ipv4 and dualstack; the legacy URL is kept_legacy")
        return v

    @property
    def effective_api_regions(self) -> list[str]:
        return self.api_regions or [self.primary_region]


class PolicyConfig(_Strict):
    mode: Literal["add-only", "sync"] = "add-only"
    removal_grace: timedelta = timedelta(hours=24)
    max_changes: int = Field(default=20, ge=1, le=100_000)

    _grace = durations_within(removal_grace=(timedelta(0), 365 * DAY))


class ServiceConfig(_Strict):
    mode: Literal["observe", "apply", "approve"] = "observe"
    interval: timedelta = timedelta(minutes=15)
    watch_interval: timedelta = timedelta(seconds=30)
    jitter: timedelta = timedelta(seconds=30)
    lease_ttl: timedelta = timedelta(seconds=60)
    listen: str = "127.0.0.1:9464"
    events: EventsConfig | None = None
    ticket: str | None = Field(
        default=None, description="the tickets: entry that gates applies in mode approve"
    )
    notify: list[str] = Field(
        default_factory=list, description="tickets: entries told about findings and outcomes"
    )
    ticket_poll_interval: timedelta = timedelta(seconds=30)

    _durations = durations_within(
        interval=(SECOND, 7 * DAY),
        watch_interval=(SECOND, DAY),
        jitter=(timedelta(0), DAY),
        lease_ttl=(SECOND, timedelta(hours=1)),
        ticket_poll_interval=(SECOND, DAY),
    )

    @model_validator(mode="after")
    def _approve_needs_ticket(self) -> ServiceConfig:
        if self.mode == "approve" and self.ticket is None:
            raise ValueError(
                "service.mode approve needs service.ticket: <name of a tickets: entry> "
                "(jira, servicenow or github) whose approval gates each apply"
            )
        return self


class StateConfig(_Strict):
    url: str = "sqlite:///idpsync-state.db"


class Config(_Strict):
    """The whole configuration file. ``targets`` hold each connector's validated model."""

    identity_center: IdentityCenterConfig
    targets: list[TargetConfig] = Field(default_factory=list)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    tickets: list[TicketBackendConfig] = Field(default_factory=list)
    bookmarks: BookmarksConfig | None = Field(
        default=None, description="optional: one access-portal bookmark app per Region"
    )

    # Set by load_config: the directory relative paths in the file resolve against.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    def target(self, name: str) -> TargetConfig:
        for t in self.targets:
            if t.name == name:
                return t
        raise ConfigError(f"no target named {name!r}; known: {[t.name for t in self.targets]}")

    def ticket_backend(self, name: str) -> TicketBackendConfig:
        for t in self.tickets:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.tickets) or "none configured"
        raise ConfigError(f"no tickets: entry named {name!r} (known: {known})", key="tickets")

    @model_validator(mode="after")
    def _ticket_names(self) -> Config:
        names = [t.name for t in self.tickets]
        if len(set(names)) != len(names):
            raise ValueError("tickets: names must be unique")
        svc = self.service
        for name in [*([svc.ticket] if svc.ticket else []), *svc.notify]:
            if name not in names:
                raise ValueError(
                    f"service refers to ticket backend {name!r}, which tickets: does not define"
                )
        if svc.ticket and not self.ticket_backend(svc.ticket).approves:
            raise ValueError(
                f"service.ticket {svc.ticket!r} is a notification channel and cannot approve; "
                "use a jira, servicenow or github entry (put slack under service.notify)"
            )
        return self


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _first_error(
    exc: ValidationError, path: str, prefix: tuple[int | str, ...] = ()
) -> ConfigError:
    errors = exc.errors(include_url=False)
    lines = []
    for err in errors:
        # pydantic reports a failing union/discriminator member in loc; drop model names.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper()))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "field required"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see config/schema.json)"
        lines.append(f"{_key_path(prefix + loc)}: {msg}")
    first_loc = _key_path(prefix + tuple(errors[0]["loc"])) if errors else None
    message = "; ".join(lines) if len(lines) > 1 else lines[0].split(": ", 1)[1]
    return ConfigError(message, path=path, key=None if len(lines) > 1 else first_loc)


def _validate_targets(raw_targets: object, path: str) -> list[TargetConfig]:
    from agent.registry import connector_class  # late: the registry imports connectors

    if raw_targets is None:
        return []
    if not isinstance(raw_targets, list):
        raise ConfigError("must be a list of targets", path=path, key="targets")
    targets: list[TargetConfig] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_targets):
        key = f"targets[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError("each target must be a mapping", path=path, key=key)
        type_name = raw.get("type")
        if not isinstance(type_name, str):
            raise ConfigError(
                "field required: type (okta, entra, file, ...)", path=path, key=f"{key}.type"
            )
        cls = connector_class(type_name, key=f"{key}.type")
        try:
            target = cls.config_model.model_validate(raw)
        except ValidationError as exc:
            raise _first_error(exc, path, ("targets", i)) from None
        if target.name in seen:
            raise ConfigError(
                f"duplicate target name {target.name!r}; names must be unique",
                path=path,
                key=f"{key}.name",
            )
        seen.add(target.name)
        targets.append(target)
    return targets


def parse_config(data: object, *, path: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate an already-parsed YAML document."""
    if not isinstance(data, dict):
        raise ConfigError(
            "the file must hold a YAML mapping (identity_center:, targets:, ...)", path=path
        )
    try:
        check_references(data, path)
        body = dict(data)
        targets = _validate_targets(body.pop("targets", None), path)
        cfg = Config.model_validate({**body, "targets": []})
    except ValidationError as exc:
        raise _first_error(exc, path) from None
    except RecursionError:
        raise ConfigError(_TOO_DEEP, path=path) from None
    if cfg.bookmarks is not None:
        check_bookmarks(cfg.bookmarks, cfg.identity_center.instance_arn, targets, path)
    return cfg.model_copy(update={"targets": targets, "base_dir": base_dir or Path.cwd()})


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file; every problem is a :class:`ConfigError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "file not found (pass --config with the path to your YAML file)", path=str(p)
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=str(p)) from None
    try:
        data: Any = load_yaml(text, path=str(p))  # duplicate keys are an error, not last-wins
    except RecursionError:  # PyYAML recurses once per nesting level
        raise ConfigError(_TOO_DEEP, path=str(p)) from None
    # Relative paths inside the file resolve against the file's own directory, so a config
    # works the same whatever directory idpsync is started from.
    return parse_config(data, path=str(p), base_dir=p.resolve().parent)
