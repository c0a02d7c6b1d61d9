"""Structured logging with redaction.

One pipeline for our own loggers and the standard library's (httpx, uvicorn, SQLAlchemy,
alembic): JSON lines in production, a readable console for people. Before anything is rendered,
`redact` drops `Secret` values and known secret-bearing keys, and scrubs form tokens and bearer
tokens out of free text such as uvicorn's access log lines.

Tracebacks are rendered plainly, never with local variables: structlog's and rich's pretty
tracebacks show locals by default, and a local can be a password.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

from vault import Secret

REDACTED = "[redacted]"

SECRET_KEYS = frozenset(
    {
        "password",
        "new_password",
        "totp_secret",
        "totp",
        "mfa_code",
        "verification_code",
        "cookie",
        "cookies",
        "set-cookie",
        "set_cookie",
        "authorization",
        "storage_state",
        "session_state",
        "token",
        "tokens",
        "api_token",
        "secret",
        "secrets",
        "keys",
        "plaintext",
        "ciphertext",
        "wrapped_key",
    }
)

_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Form links carry a capability token: /forms/<token>[/code]
    (re.compile(r"(/forms/)[A-Za-z0-9_\-.~%]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]+"), r"\1" + REDACTED),
    (
        re.compile(r"(?i)((?:password|passwd|totp_secret|token|code)=)[^&\s\"']+"),
        r"\1" + REDACTED,
    ),
)


def scrub_text(text: str) -> str:
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(key: str | None, value: Any, depth: int = 0) -> Any:
    if isinstance(value, Secret):
        return REDACTED
    if key is not None and key.lower() in SECRET_KEYS and value is not None:
        return REDACTED
    if depth > 6:
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(None, v, depth + 1) for v in value]
    return value


def redact(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: no secret value, known secret key or capability token survives."""
    event_dict.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    for key in list(event_dict):
        if key in ("_record", "_from_structlog"):
            continue
        event_dict[key] = _redact_value(key if key != "event" else None, event_dict[key])
    return event_dict


def _shared_processors(json_output: bool) -> list[Processor]:
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if json_output:
        # Plain text traceback (traceback.format_exception): no locals.
        processors.append(structlog.processors.format_exc_info)
    processors.append(redact)
    return processors


def configure_logging(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Route structlog and the standard library through one redacting pipeline."""
    json_output = fmt == "json"
    shared = _shared_processors(json_output)
    renderer: Processor
    if json_output:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact,  # again: exception text is rendered after the pre-chain
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "httpx", "httpcore"):
        # uvicorn's own logging set-up gives these handlers, levels and propagate=False.
        lib = logging.getLogger(name)
        lib.handlers.clear()
        lib.setLevel(logging.NOTSET)
        lib.propagate = True
    # Debug lines that carry data: httpcore's include raw headers (cookies), aiosqlite's quote
    # every SQL parameter (patient names, ciphertext). Never below INFO.
    for noisy in ("httpcore", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
    structlog.configure(
        # The level first: an event the level drops costs one comparison, not the timestamp
        # and redaction of the chain behind it.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def bind(**values: Any) -> None:
    structlog.contextvars.bind_contextvars(**values)
