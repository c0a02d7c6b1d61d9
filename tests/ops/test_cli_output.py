"""The command line prints stored values as they are.

Usernames and practice ids come from the API and the form, so from anyone: rich markup in them
crashed `accounts list` (`[/]`: MarkupError) or became a terminal hyperlink (`[link=...]`).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.ops.support import cli

USERNAME = "rich[/]markup@x.example"
PRACTICE = "[link=https://evil.example]click me[/link] [bold]:warning:"


def test_stored_values_are_printed_literally(tmp_path: Path) -> None:
    added = cli(
        "accounts", "add", "--vendor", "clearcorrect", "--username", USERNAME,
        "--practice", PRACTICE, "--json", cwd=tmp_path, stdin="Markup-pw-0001\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    account_id = json.loads(added.stdout)["id"]
    terminal = {"FORCE_COLOR": "1", "COLUMNS": "300"}  # as at a terminal: links would render
    for args in (["accounts", "list"], ["accounts", "show", account_id]):
        result = cli(*args, cwd=tmp_path, env=terminal)
        assert result.returncode == 0, (args, result.stderr)
        assert USERNAME in result.stdout, result.stdout
        assert PRACTICE in result.stdout, result.stdout
        assert "\x1b]8;" not in result.stdout  # no OSC 8 hyperlink
        assert "⚠" not in result.stdout  # no emoji code turned into a picture
