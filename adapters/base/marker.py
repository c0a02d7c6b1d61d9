"""The marker the connector appends to what it posts (`[ref:<action id>]`).

After a crash or a lost response the connector looks for the marker on the portal before trying
again: found means the earlier attempt landed, so nothing is posted twice.
"""

from __future__ import annotations

import re

_ACTION_ID = re.compile(r"^[a-z]{2,8}_[0-9a-z]{8,40}$")


def marker_for(action_id: str) -> str:
    if not _ACTION_ID.match(action_id):
        raise ValueError("a marker needs a server-made action id")
    return f"[ref:{action_id}]"


def with_marker(text: str, marker: str) -> str:
    return f"{text.rstrip()}\n\n{marker}"


def has_marker(text: str, marker: str) -> bool:
    return marker in text
