"""The `tps-connector` command line (typer + rich).

Errors are one clear line on stderr and a non-zero exit code, never a traceback: typer's pretty
exceptions are off (they print local variables, and a local can be a password), and `main`
turns anything unexpected into one line, logging a plain traceback without locals.
"""

from connector.cli.app import app, main

__all__ = ["app", "main"]
