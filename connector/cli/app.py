"""The root command and the error boundary around it."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import click
import typer

from connector import __version__
from connector.cli import accounts, actions, db, files, keys, portal, webhooks
from connector.cli.demo import demo_command
from connector.cli.sandbox import sandbox_command
from connector.cli.serve import serve_command
from connector.cli.sync import sync_command
from connector.cli.worker import worker_command
from connector.errors import ConnectorError
from connector.runtime import BrowserUnavailable, DatabaseUnavailable
from connector.store.diagnostics import DATABASE_ERRORS, driver_message

app = typer.Typer(
    name="tps-connector",
    help="Keeps a treatment-planning service in sync with aligner vendors' doctor portals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"tps-connector {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Keeps a treatment-planning service in sync with aligner vendors' doctor portals."""


app.add_typer(accounts.app, name="accounts")
app.add_typer(keys.app, name="keys")
app.add_typer(db.app, name="db")
app.add_typer(actions.app, name="actions")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(files.app, name="files")
app.add_typer(portal.app, name="portal")
app.command("sandbox")(sandbox_command)
app.command("demo")(demo_command)
app.command("sync")(sync_command)
app.command("serve")(serve_command)
app.command("worker")(worker_command)


def browser_failure(exc: Exception) -> str:
    """Chromium (or the remote browser) failed: its first words, and what to do when it is the
    sandbox a container runtime blocks."""
    text = str(exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    message = f"the browser failed ({type(exc).__name__}): {first[:200]}"
    if "No usable sandbox" in text:
        message += (
            "; Chromium's own sandbox is blocked here (a container's seccomp profile or a "
            "chroot): set browser.sandbox = false (CONNECTOR_BROWSER__SANDBOX=false)"
        )
    return message


def main() -> None:
    """Console-script entry point: every failure is one line and an exit code."""
    try:
        app()
    except ConnectorError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except click.exceptions.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    except DATABASE_ERRORS as exc:
        # The database went away after start-up: its driver's words, never the SQL.
        sys.stderr.write(f"error: the database failed: {driver_message(exc)}\n")
        sys.exit(DatabaseUnavailable.exit_code)
    except Exception as exc:
        if type(exc).__module__.startswith("playwright."):
            sys.stderr.write(f"error: {browser_failure(exc)}\n")
            sys.exit(BrowserUnavailable.exit_code)
        # With log.level = "debug" the log gets the traceback (code lines only, never local
        # variables); otherwise people see one line.
        log = logging.getLogger("connector.cli")
        log.error("unexpected error: %s", type(exc).__name__, exc_info=log.isEnabledFor(10))
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}; set CONNECTOR_LOG__LEVEL=debug for details\n"
        )
        sys.exit(1)
