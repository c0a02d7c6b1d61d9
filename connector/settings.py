"""Settings: a TOML file plus `CONNECTOR_*` environment variables (the environment wins).

Nested settings use `__` in environment names: `CONNECTOR_VAULT__PROVIDER=env`. Every secret
setting is a `vault.Secret` and can instead be read from a file named by the same setting with
`_file` appended (`vault.keys_file`, `api.tokens_file`), which is how container secret stores
mount them. `config.example.toml` documents every setting with its default; a test keeps the two
in step.

Relative paths in the config file are relative to the file's folder (so a command run from
another folder finds the same database and keys), and the data dir defaults to `.connector` next
to it; without a config file they are relative to the current directory. A `CONNECTOR_*`
variable that misspells a nested setting (`CONNECTOR_DATABSE__URL`) stops the program with the
name it probably meant, rather than being ignored in favour of the default; any other unknown one
(a container platform injects `CONNECTOR_PORT` for a service named `connector`) is only reported.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from connector.errors import ConfigError
from connector.store.database import DEFAULT_POOL_SIZE
from connector.store.events import EVENT_TYPES
from vault import Secret

DEFAULT_CONFIG_FILE = Path("connector.toml")
ENV_PREFIX = "CONNECTOR_"


def _read_secret_file(path: Path, setting: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read {setting} ({path}): {exc.strerror}") from None


def _split_list(value: Any) -> Any:
    """Lists of secrets come from the environment as `a,b,c`, or from TOML as arrays."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data: Any) -> Any:
        """`key_file = ""` in TOML (or an empty environment variable) means "use the default"."""
        if isinstance(data, dict):
            return {
                k: v
                for k, v in data.items()
                if not (v == "" and k in cls.model_fields and cls.model_fields[k].default is None)
            }
        return data


class DatabaseSettings(_Section):
    url: str = Field(
        "",
        description="SQLAlchemy URL. Empty: SQLite in the data dir. PostgreSQL: "
        "postgresql+psycopg://user@host/db",
    )
    url_file: Path | None = Field(
        None, description="A file holding `url` (when it carries a password)."
    )
    auto_upgrade: bool = Field(True, description="Apply pending migrations at start-up.")
    echo: bool = Field(False, description="Log every SQL statement (development only).")
    pool_size: int = Field(
        DEFAULT_POOL_SIZE,
        ge=1,
        le=1000,
        description="Database connections each process keeps open: as many as it uses at once "
        "(API requests in flight plus sync.concurrency); up to as many again for bursts.",
    )

    @model_validator(mode="before")
    @classmethod
    def _url_from_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("url_file"):
            if data.get("url"):
                raise ValueError("set url or url_file, not both")
            path = Path(str(data["url_file"]))
            data = {**data, "url": _read_secret_file(path, "database.url_file")}
        return data

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+psycopg://")
        if value.startswith("sqlite") and value.rstrip("/").endswith((":memory:", "aiosqlite:")):
            raise ValueError("SQLite needs a file: sqlite+aiosqlite:///path/to/connector.db")
        return value


class VaultSettings(_Section):
    provider: Literal["file", "env"] = Field(
        "file", description="Where key-encryption keys live: a local key file, or `keys`."
    )
    key_file: Path | None = Field(
        None, description="Key file of the `file` provider. Empty: <data_dir>/keys.json."
    )
    keys: Secret | None = Field(
        None, description="`kid:base64[,kid:base64...]`, first is primary (`env` provider)."
    )
    keys_file: Path | None = Field(None, description="A file holding `keys`.")

    @model_validator(mode="after")
    def _keys_from_file(self) -> Self:
        if self.keys_file is not None:
            if self.keys is not None:
                raise ValueError("set keys or keys_file, not both")
            object.__setattr__(
                self, "keys", Secret(_read_secret_file(self.keys_file, "vault.keys_file"))
            )
        if self.provider == "env" and not self.keys:
            raise ValueError("provider 'env' needs vault.keys or vault.keys_file")
        return self


class ApiSettings(_Section):
    host: str = Field("127.0.0.1", description="Address the API and form listen on.")
    port: int = Field(8080, ge=1, le=65535, description="Port the API and form listen on.")
    public_base_url: str = Field(
        "",
        description="Base URL dentists' browsers use for form links (`/forms/...`). Empty: "
        "http://<host>:<port>.",
    )
    tokens: Annotated[list[Secret], NoDecode] = Field(
        default_factory=list,
        description="Bearer tokens accepted on /v1 (several at once, for rotation).",
    )
    tokens_file: Path | None = Field(None, description="A file holding `tokens`, comma-separated.")
    max_body_bytes: int = Field(
        65_536, ge=1024, le=10_485_760, description="Larger request bodies are refused (413)."
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies whose X-Forwarded-For is trusted (comma-separated, or *).",
    )

    @field_validator("tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("public_base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http:// or https:// URL without query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_base_url(self) -> Self:
        """Form links follow the API's own address unless a proxy's address is given."""
        if not self.public_base_url:
            host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
                self.host, self.host
            )
            if ":" in host:
                host = f"[{host}]"
            object.__setattr__(self, "public_base_url", f"http://{host}:{self.port}")
        return self

    @model_validator(mode="after")
    def _tokens_from_file(self) -> Self:
        if self.tokens_file is not None:
            if self.tokens:
                raise ValueError("set tokens or tokens_file, not both")
            raw = _read_secret_file(self.tokens_file, "api.tokens_file")
            object.__setattr__(self, "tokens", [Secret(t) for t in _split_list(raw)])
        if any(len(t.reveal()) < 16 for t in self.tokens):
            raise ValueError("every API token must be at least 16 characters")
        return self


class VendorSettings(_Section):
    base_url: str = Field(description="The portal's address (point it at a sandbox for tests).")
    concurrency: int = Field(4, ge=1, le=64, description="Syncs of this vendor at once.")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


class VendorsSettings(_Section):
    invisalign: VendorSettings = Field(
        default_factory=lambda: VendorSettings(base_url="https://vip.invisalign.com")
    )
    clearcorrect: VendorSettings = Field(
        default_factory=lambda: VendorSettings(base_url="https://portal.clearcorrect.com")
    )

    def for_vendor(self, vendor: str) -> VendorSettings:
        settings: VendorSettings = getattr(self, vendor)
        return settings


class BrowserSettings(_Section):
    executable_path: Path | None = Field(
        None, description="Chromium to launch. Empty: Playwright's build, else /usr/bin/chromium."
    )
    ws_endpoint: str | None = Field(
        None, description="A remote `playwright launch-server` websocket (same Playwright version)."
    )
    max_contexts: int = Field(4, ge=1, le=64, description="Browser contexts open at once.")
    sandbox: bool = Field(
        True,
        description="Chromium's own sandbox; false where the container runtime's seccomp "
        "profile blocks it.",
    )


class WorkerSettings(_Section):
    """`tps-connector worker`: its own /metrics and /healthz, for Prometheus and probes."""

    metrics_host: str = Field("127.0.0.1", description="Address the worker's /metrics is on.")
    metrics_port: int = Field(
        8081, ge=0, le=65535, description="Port of the worker's /metrics (0: none)."
    )


class SyncSettings(_Section):
    interval_seconds: float = Field(900, ge=10, description="Time between syncs of an account.")
    jitter: float = Field(0.1, ge=0, le=0.5, description="Random spread of the interval (+-).")
    concurrency: int = Field(8, ge=1, le=256, description="Syncs at once in this process.")
    poll_seconds: float = Field(
        5, gt=0, le=300, description="How often due accounts are looked up."
    )
    grace_seconds: float = Field(30, ge=0, description="Shutdown wait for running syncs.")
    full_listing_hours: float = Field(
        24, gt=0, description="A full listing (finds removals) this often."
    )
    backoff_max_seconds: float = Field(3600, ge=1, description="Longest wait after failures.")
    removed_case_retention_days: float = Field(
        30, gt=0, description="Cases gone from the portal are purged this long after."
    )
    event_retention_days: float = Field(
        30, gt=0, description="Events (the change feed), runs and login attempts kept this long."
    )


class LogSettings(_Section):
    format: Literal["json", "console"] = Field(
        "json", description="json for production; console for people at a terminal."
    )
    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Threshold.")


_ENDPOINT_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
MAX_WEBHOOK_SECRETS = 2  # the new one and the old one, while a secret rotates


def _split_secret_lines(raw: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\n]", raw) if item.strip()]


class WebhookEndpointSettings(_Section):
    """One receiver of webhooks (a `[[webhooks.endpoints]]` table)."""

    name: str = Field(description="Short name for logs, status and replay (a-z, 0-9, _ . -).")
    url: str = Field(description="Where events are POSTed (http:// or https://).")
    secret: Secret | None = Field(None, description="Signing secret (at least 16 characters).")
    secrets: Annotated[list[Secret], NoDecode] = Field(
        default_factory=list,
        description="While rotating: [new, old]; both sign every delivery, new first.",
    )
    secret_file: Path | None = Field(
        None, description="A file holding the secret (two lines while rotating, new first)."
    )
    types: list[str] = Field(
        default_factory=list, description="Only these event types. Empty: every type."
    )

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _ENDPOINT_NAME.fullmatch(value):
            raise ValueError("must be 1-64 characters: a-z, 0-9, _ . - (starting a-z or 0-9)")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("secrets", mode="before")
    @classmethod
    def _split_secrets(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        for event_type in value:
            if event_type not in EVENT_TYPES:
                raise ValueError(
                    f"unknown event type {event_type!r}: one of {', '.join(EVENT_TYPES)}"
                )
        return value

    @model_validator(mode="after")
    def _one_secret_source(self) -> Self:
        sources = [self.secret is not None, bool(self.secrets), self.secret_file is not None]
        if sum(sources) != 1:
            raise ValueError(f"endpoint {self.name!r}: set one of secret, secrets or secret_file")
        if self.secret_file is not None:
            raw = _read_secret_file(self.secret_file, f"webhook endpoint {self.name!r} secret_file")
            object.__setattr__(self, "secrets", [Secret(s) for s in _split_secret_lines(raw)])
        elif self.secret is not None:
            object.__setattr__(self, "secrets", [self.secret])
        object.__setattr__(self, "secret", None)  # one place to read them: `secrets`
        if not 1 <= len(self.secrets) <= MAX_WEBHOOK_SECRETS:
            raise ValueError(f"endpoint {self.name!r}: one secret, or two while rotating")
        if any(len(s.reveal()) < 16 for s in self.secrets):
            raise ValueError(f"endpoint {self.name!r}: every secret must be at least 16 characters")
        return self

    def accepts(self, event_type: str) -> bool:
        return not self.types or event_type in self.types


class WebhooksSettings(_Section):
    endpoints: list[WebhookEndpointSettings] = Field(
        default_factory=list, description="Receivers of signed webhooks."
    )
    max_age_hours: float = Field(
        24, gt=0, description="Retry a delivery this long after its event, then mark it failed."
    )
    backoff_base_seconds: float = Field(10, gt=0, description="First wait after a failure.")
    backoff_max_seconds: float = Field(3600, gt=0, description="Longest wait between attempts.")
    timeout_seconds: float = Field(10, gt=0, le=300, description="Per-request timeout.")
    concurrency: int = Field(8, ge=1, le=256, description="Deliveries in flight per process.")
    poll_seconds: float = Field(
        2, gt=0, le=300, description="How often new events and due retries are looked up."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [endpoint.name for endpoint in self.endpoints]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"endpoint names must be unique: {', '.join(duplicates)}")
        return self

    def endpoint(self, name: str) -> WebhookEndpointSettings | None:
        return next((e for e in self.endpoints if e.name == name), None)


class FormsSettings(_Section):
    """The update-credentials form (`/forms/{token}`) and its links (`POST /v1/form-sessions`)."""

    token_ttl_minutes: int = Field(
        30, ge=1, le=1440, description="A form link works this long after it was made."
    )
    return_url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Where a form may send the dentist back: origins or URL prefixes.",
    )
    tps_name: str = Field(
        "your planning service",
        min_length=1,
        max_length=80,
        description='How the form names the TPS ("Back to <name>").',
    )
    verify_wait_seconds: float = Field(
        45, ge=1, le=300, description="A submit waits this long for the portal's answer."
    )
    code_wait_seconds: float = Field(
        300, ge=1, le=1800, description="A sign-in waits this long for a verification code."
    )
    rate_window_minutes: float = Field(
        15, gt=0, le=1440, description="Window of the per-link and per-address limits."
    )
    max_attempts_per_token: int = Field(
        6, ge=1, le=1000, description="Sign-in and code submissions per link in the window."
    )
    max_attempts_per_address: int = Field(
        30, ge=1, le=100_000, description="Submissions per client address in the window."
    )

    @field_validator("return_url_allowlist", mode="before")
    @classmethod
    def _split_entries(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("return_url_allowlist")
    @classmethod
    def _valid_entries(cls, value: list[str]) -> list[str]:
        for entry in value:
            parts = urlsplit(entry)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.username is not None
                or parts.query
                or parts.fragment
                or any(c.isspace() or c == "\\" for c in entry)
            ):
                raise ValueError(
                    "every entry must be an http(s) origin or URL prefix without query, "
                    "fragment or user name"
                )
        return value


#: File kinds a sync policy may name (`adapters.base.FileKind`): photos and x-rays show faces.
FileKindName = Literal["stl", "pdf", "photo", "xray", "archive"]


def _default_kinds() -> list[FileKindName]:
    return ["stl", "pdf"]


class VendorFilesSettings(_Section):
    """Which files of one vendor are fetched, and when (`[files.<vendor>]`)."""

    kinds: list[FileKindName] = Field(
        default_factory=_default_kinds,
        description="Kinds fetched by policy or on request; add photo, xray, archive to enable.",
    )
    max_file_mb: float = Field(
        500, gt=0, le=100_000, description="Larger files are listed but never fetched."
    )
    eager: bool = Field(
        True, description="Fetch the files of setups in review at once; others on first request."
    )

    @field_validator("kinds")
    @classmethod
    def _unique_kinds(cls, value: list[FileKindName]) -> list[FileKindName]:
        return list(dict.fromkeys(value))


class FilesSettings(_Section):
    """Setup files and case records: where the encrypted blobs live, and the sync policy."""

    store: Literal["auto", "filesystem", "postgresql"] = Field(
        "auto",
        description="Blob store. auto: filesystem on SQLite, postgresql (chunks in the "
        "database) on PostgreSQL.",
    )
    path: Path | None = Field(
        None, description="Root of the filesystem store (a shared volume). Empty: <data_dir>/files."
    )
    chunk_kib: int = Field(
        1024, ge=64, le=16_384, description="Encrypted chunk size of new blobs, in KiB."
    )
    concurrency: int = Field(2, ge=1, le=64, description="Accounts downloading at once.")
    poll_seconds: float = Field(5, gt=0, le=300, description="How often due files are looked up.")
    turn_seconds: float = Field(
        120, ge=5, le=3600, description="A download turn holds the account's session this long."
    )
    retry_after_seconds: int = Field(
        5, ge=1, le=3600, description="Retry-After of a 202 for a file not fetched yet."
    )
    invisalign: VendorFilesSettings = Field(default_factory=VendorFilesSettings)
    clearcorrect: VendorFilesSettings = Field(default_factory=VendorFilesSettings)

    def for_vendor(self, vendor: str) -> VendorFilesSettings:
        settings: VendorFilesSettings = getattr(self, vendor)
        return settings


class Settings(BaseSettings):
    """All settings. Sections mirror the TOML tables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(
        Path(".connector"), description="Embedded state: SQLite database and key file."
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    vault: VaultSettings = Field(default_factory=VaultSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    vendors: VendorsSettings = Field(default_factory=VendorsSettings)
    browser: BrowserSettings = Field(default_factory=BrowserSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    webhooks: WebhooksSettings = Field(default_factory=WebhooksSettings)
    forms: FormsSettings = Field(default_factory=FormsSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init arguments; the environment overrides it.
        return (env_settings, init_settings)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'connector.db'}"

    @property
    def key_file(self) -> Path:
        return self.vault.key_file or self.data_dir / "keys.json"

    @property
    def blob_store(self) -> Literal["filesystem", "postgresql"]:
        """The configured blob store; `auto` follows the database, so workers sharing a
        PostgreSQL database never strand blobs on their own disks."""
        if self.files.store != "auto":
            return self.files.store
        return "filesystem" if self.database_url.startswith("sqlite") else "postgresql"

    @property
    def files_path(self) -> Path:
        return self.files.path or self.data_dir / "files"

    @property
    def embedded(self) -> bool:
        """SQLite in the data dir: one process, keys generated on first run."""
        return self.database_url.startswith("sqlite")


class _WithoutEnvironment(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_without_environment(**values: Any) -> Settings:
    """Settings from `values` and the defaults alone, whatever `CONNECTOR_*` variables are set
    (the demo must not pick up a production database from the environment)."""
    try:
        return _WithoutEnvironment(**values)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        raise ConfigError(_format_error(first)) from None


_SECTIONS = {
    "database",
    "vault",
    "api",
    "log",
    "vendors",
    "browser",
    "sync",
    "webhooks",
    "forms",
    "files",
    "worker",
}


def _format_error(error: Mapping[str, Any]) -> str:
    location = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__") or "settings"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    # Never echo the input: a bad value may be a secret.
    if "." not in location and location in _SECTIONS:
        return f"settings [{location}]: {message}"
    # A list item (webhooks.endpoints.0.url) comes from one variable holding the whole list.
    parts = [str(p) for p in error.get("loc", ()) if p != "__root__"]
    parts = parts[: next((i for i, p in enumerate(parts) if p.isdigit()), len(parts))]
    env_name = ENV_PREFIX + "__".join(parts).upper()
    return f"setting {location} ({env_name}): {message}"


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None


#: Path settings: relative values in the config file are taken from the file's folder.
_PATH_SETTINGS = (
    ("data_dir",),
    ("database", "url_file"),
    ("vault", "key_file"),
    ("vault", "keys_file"),
    ("api", "tokens_file"),
    ("browser", "executable_path"),
)
#: Not settings, but ours: `--config` from the environment.
_KNOWN_VARIABLES = frozenset({"CONNECTOR_CONFIG"})


def _relative_to(folder: Path, values: dict[str, Any]) -> dict[str, Any]:
    """The config file's relative paths, made relative to its folder (the data dir too, which
    defaults to `.connector` beside the file)."""
    values = {**values}
    values.setdefault("data_dir", ".connector")

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            return str(folder / value)
        return value

    for path in _PATH_SETTINGS:
        *sections, key = path
        table: Any = values
        for section in sections:
            table = table.get(section) if isinstance(table, dict) else None
        if isinstance(table, dict) and key in table:
            table[key] = resolve(table[key])
    endpoints = (
        values.get("webhooks", {}).get("endpoints")
        if isinstance(values.get("webhooks"), dict)
        else None
    )
    for endpoint in endpoints if isinstance(endpoints, list) else []:
        if isinstance(endpoint, dict) and "secret_file" in endpoint:
            endpoint["secret_file"] = resolve(endpoint["secret_file"])
    return values


def _copy_tables(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy_tables(v) if isinstance(v, dict) else v for k, v in values.items()}


def environment_names() -> frozenset[str]:
    """Every `CONNECTOR_*` name a setting (or a whole section, as JSON) is read from."""
    names: set[str] = set()

    def walk(model: type[BaseModel], parts: list[str]) -> None:
        for name, field in model.model_fields.items():
            here = [*parts, name]
            names.add(ENV_PREFIX + "__".join(here).upper())
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, here)

    walk(Settings, [])
    return frozenset(names)


def check_environment(environ: Mapping[str, str]) -> list[str]:
    """Unknown `CONNECTOR_*` variables. One that names a nested setting (`__`) inside a known
    section, or comes near one, is refused with the nearest valid name: ignored, it would leave
    the default in force (SQLite instead of PostgreSQL, say). Any other unknown one is returned,
    with a suggestion when one is near, for a warning."""
    known = environment_names()
    candidates = sorted(known)
    ignored: list[str] = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper in _KNOWN_VARIABLES:
            continue
        # Compared without the common prefix, and only with names as deeply nested.
        depth = upper.count("__")
        same_depth = {c.removeprefix(ENV_PREFIX): c for c in candidates if c.count("__") == depth}
        close = difflib.get_close_matches(
            upper.removeprefix(ENV_PREFIX), list(same_depth), n=1, cutoff=0.8
        )
        nearest = [same_depth[c] for c in close]
        hint = f"; did you mean {nearest[0]}?" if nearest else ""
        if "__" in upper and (nearest or upper.split("__", 1)[0] in known):
            raise ConfigError(f"{name} is not a setting{hint or ' (see config.example.toml)'}")
        ignored.append(f"{name} (did you mean {nearest[0]}?)" if nearest else name)
    return ignored


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Settings:
    """Load settings from `config_file` (or ./connector.toml if present) and the environment.

    Raises `ConfigError` with one line naming the first bad setting and the problem. Unknown
    `CONNECTOR_*` variables that are not near misses are passed to `warn`.
    """
    environment = os.environ if environ is None else environ
    ignored = check_environment(environment)
    if ignored and warn is not None:
        warn(
            "ignoring environment variables that are not settings: "
            + ", ".join(ignored)
            + " (see config.example.toml for the names)"
        )
    path = config_file
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    values: dict[str, Any] = {}
    if path is not None:
        values = _relative_to(path.resolve().parent, _copy_tables(read_config_file(path)))
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        raise ConfigError(_format_error(first)) from None
    except ValueError as exc:  # pydantic-settings' own parsing errors (bad JSON in env)
        raise ConfigError(f"settings: {exc}") from None
    # Absolute from here on: a later change of directory changes nothing.
    return settings.model_copy(update={"data_dir": settings.data_dir.expanduser().resolve()})
