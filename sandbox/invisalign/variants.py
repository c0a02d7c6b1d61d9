"""Variants of the real site, as public code written against it expects them (see the Variants
table of the facts register), and whether the guessed JSON API answers.

They are kept apart from the synthetic `layout_version` fault: a variant is a shape the real site
has had, layout 2 is a release that renames what parsers depend on.

- `filter-dropdown` (default): the current patient list, cards in an open shadow root, the
  filter dropdown (`Filter-buttonContainer`) and its active-filter markers.
- `legacy-tab`: the same cards, filtered through the older `#tab-action` tab.
- `classic-table`: the older server-rendered table ("Name (#id)" cells, `display.*` parameters)
  with its tabs.

`json_api` off hides `/v3/api/` (404): the pages then load their data from a path no client
guesses, as the real site's script app does from wherever it does; a client's JSON fast path
must notice and fall back to the pages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FILTER_DROPDOWN = "filter-dropdown"
LEGACY_TAB = "legacy-tab"
CLASSIC_TABLE = "classic-table"
VARIANTS: tuple[str, ...] = (FILTER_DROPDOWN, LEGACY_TAB, CLASSIC_TABLE)
DEFAULT_VARIANT = FILTER_DROPDOWN


@dataclass
class SiteSettings:
    variant: str = DEFAULT_VARIANT
    json_api: bool = True

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}")
        if not isinstance(self.json_api, bool):
            raise ValueError("json_api must be true or false")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update from the admin API; unknown keys or bad values change nothing."""
        unknown = set(changes) - set(self.to_json())
        if unknown:
            raise ValueError(f"unknown site setting(s): {', '.join(sorted(unknown))}")
        fresh = SiteSettings(**{**self.to_json(), **changes})
        self.variant, self.json_api = fresh.variant, fresh.json_api
