"""Recordings keep a page's structure and the register's words, and nothing of a patient."""

from __future__ import annotations

import json
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base.recording import Keep, sanitize_html, sanitize_json_text, sanitize_url, shape

KEEP = Keep(["Action required", "Tracker-status", "ClinCheck 계획 검토", "ACTION_REQUIRED"])

PAGE = """<!DOCTYPE html><html lang="pl"><head><title>Pacjenci</title>
<script>window.__DATA__ = {"patient": "Anna Kowalska"}</script><style>.x{}</style></head>
<body><div class="shadow-root-container"><template shadowrootmode="open">
<div data-testid="Card-patient"><a href="/v3/auth/patient/patientFile.action?patientId=1234567">
<span data-testid="Patient-name">Anna Kowalska</span></a>
<span data-testid="Patient-id">#1234567</span>
<span data-testid="Tracker-status">ClinCheck 계획 검토</span>
<button aria-label="Action required">Action required</button>
<input type="hidden" name="__VIEWSTATE" value="dDwtMTIzNDU2Nzg5O3Q8O2w8aTwxPjs+O2w8dDw7">
<input name="email" value="anna.kowalska@example.pl" title="anna.kowalska@example.pl">
<!-- rendered for anna.kowalska@example.pl -->
</div></template></div></body></html>"""


def test_a_page_keeps_its_structure_and_known_words_and_loses_the_patient() -> None:
    recorded = sanitize_html(PAGE, KEEP)
    for kept in (
        'data-testid="Card-patient"',
        'class="shadow-root-container"',
        '<template shadowrootmode="open">',
        ">ClinCheck 계획 검토<",
        ">Action required</button>",
        'aria-label="Action required"',
        'name="__VIEWSTATE"',
        "/v3/auth/patient/patientFile.action?patientId=90000001",
    ):
        assert kept in recorded, kept
    for gone in ("Anna", "Kowalska", "1234567", "anna.kowalska", "dDwtMTIz", "__DATA__", ".x{}"):
        assert gone not in recorded, gone
    assert ">#90000001<" in recorded  # the id's stand-in: a parser still reads `#` and digits
    assert ">Aaaa Aaaaaaaa<" in recorded


def test_json_keeps_keys_and_codes_and_gives_types_for_values() -> None:
    body = json.dumps(
        {
            "patients": [{"id": 1234567, "name": "Anna Kowalska", "filter": "ACTION_REQUIRED",
                          "unread": True, "score": 0.5, "doctor": None}] * 5,
            "1234567": {"x": "y"},
        }
    )  # fmt: skip
    recorded = json.loads(sanitize_json_text(body, KEEP))
    assert recorded == {
        "patients": [
            {"id": "<int>", "name": "<str>", "filter": "ACTION_REQUIRED", "unread": "<bool>",
             "score": "<float>", "doctor": None}
        ] * 3,
        "{id}": {"x": "<str>"},
    }  # fmt: skip


def test_urls_lose_their_ids_and_unknown_values() -> None:
    assert sanitize_url("https://vip.invisalign.com/v3/patients/1234567/plans/2", KEEP) == (
        "https://vip.invisalign.com/v3/patients/{id}/plans/2"
    )
    assert sanitize_url(
        "/list?display.searchString=Kowalska&display.filter=ACTION_REQUIRED", KEEP
    ) == ("/list?display.searchString=Aaaaaaaa&display.filter=ACTION_REQUIRED")
    keep = Keep([])
    assert sanitize_url("/case.aspx?id=318274", keep) == "/case.aspx?id=900001"
    assert keep.text("Case 318274") == "Aaaa 900001"  # the same id, the same stand-in
    assert keep.text("Case 318275") == "Aaaa 900002"  # another id, another one


def test_a_style_keeps_its_layout_and_loses_ids_in_its_urls() -> None:
    page = "<div style=\"width: 40%; background: url('/photos/318274/Kowalska.jpg')\">x</div>"
    recorded = sanitize_html(page, Keep([]))
    assert "width: 40%" in recorded
    assert "318274" not in recorded and "Kowalska" not in recorded


@settings(max_examples=200)
@given(
    st.lists(st.text(alphabet=string.ascii_letters + "ąęłńóśźżäöüß", min_size=3, max_size=20),
             min_size=1, max_size=5),
    st.integers(min_value=100, max_value=10**9),
)  # fmt: skip
def test_no_name_or_number_survives(names: list[str], number: int) -> None:
    secret = " ".join(names)
    html = (
        f'<div title="{secret}"><p>{secret} #{number}</p><a href="/p/{number}?q={names[0]}">x</a>'
        f'<input value="{secret}"></div>'
    )
    recorded = sanitize_html(html, KEEP) + sanitize_json_text(json.dumps({"n": secret}), KEEP)
    for name in names:
        if re.fullmatch(r"a+|A?a+", name):  # a word already made of shape letters
            continue
        assert name not in recorded
    if not str(number).startswith("9"):  # stand-ins of ids start with 9
        assert str(number) not in recorded


def test_shape_hides_exact_lengths() -> None:
    assert shape("Kowalska") == shape("Nowakowa") == "Aaaaaaaa"
    assert len(shape("Wiśniewska")) == 12
