"""The recorded pages (`recorded/`) are what the sandbox shows today: pages recorded afresh for
one language, in every variant, parse to the same values as the committed ones. (Raw HTML may
differ, for example a browser's date formatting; what the readers take from it may not.)"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.invisalign import pages
from adapters.invisalign.html import parse
from sandbox.invisalign.variants import VARIANTS
from tests.adapters.invisalign import recorded

pytestmark = pytest.mark.browser
BASE = "http://127.0.0.1:8700"


def reading(name: str, html: str) -> Any:
    root = parse(html)
    if name.startswith("list"):
        return pages.read_list(root)
    if name.startswith("patient-"):
        found = pages.read_patient_file(root, BASE)
        return (found.name, found.status, found.setups, found.comments, found.latest)
    return (pages.doctor_only_tabs(root), pages.read_profile(root))


async def test_the_recordings_are_current(chromium_options: dict[str, Any]) -> None:
    fresh = await recorded.record_all(langs=("ko",))
    for variant in VARIANTS:
        committed = recorded.load("ko", variant)
        now = fresh[("ko", variant)]
        assert now["expected"] == committed["expected"], variant
        assert set(now["pages"]) == set(committed["pages"]), variant
        for name, html in now["pages"].items():
            assert reading(name, html) == reading(name, committed["pages"][name]), (variant, name)
