"""What every command shares: the `--config` option, settings, output and error handling."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import structlog
import typer
from rich.console import Console

from connector.logs import configure_logging
from connector.settings import Settings, load_settings

T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML config file (default: ./connector.toml when present).",
        envvar="CONNECTOR_CONFIG",
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

# Stored values (usernames, practice ids, portal texts) are printed as they are: rich's markup
# and emoji codes are off, so `[/]` cannot crash a table and `[link=...]` is not a hyperlink.
# Piped output keeps whole ids rather than truncating them to 80 columns.
stdout = Console(
    highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 200
)
stderr = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)

_log = structlog.get_logger("connector.cli")


def settings_for(config: Path | None, *, long_running: bool = False) -> Settings:
    """Load settings and set up logging. One-shot commands log warnings and up only."""
    warnings: list[str] = []
    settings = load_settings(config, warn=warnings.append)
    level = settings.log.level
    if not long_running and level in ("debug", "info"):
        level = "debug" if level == "debug" else "warning"
    configure_logging(level=level, fmt=settings.log.format)
    for warning in warnings:
        _log.warning("settings.unknown_environment", detail=warning)
    return settings


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(coro_fn())


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
