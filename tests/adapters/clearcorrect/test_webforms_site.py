"""The WebForms parsers on inputs the sandbox cannot produce, and on its pages recorded in every
language: the document model against the standard library's parser (hypothesis), dates in each
culture's format, status and arch words in English, German (also "English (German)") and
Polish, unknown words kept raw, and postbacks the portal answers with the sign-in page."""

from __future__ import annotations

import html as stdlib_html
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import (
    AccountLocked,
    CaseStatus,
    InvalidCredentials,
    MalformedCredentials,
    PortalChanged,
    RecordedSignIns,
    no_code,
)
from adapters.clearcorrect import ClearCorrectAdapter, case_status
from adapters.clearcorrect.site import html, labels, webforms
from adapters.http import RetryPolicy
from sandbox.clearcorrect import labels as sandbox_labels
from sandbox.clearcorrect.webforms.markup import shown_time
from tests.adapters.clearcorrect.conftest import scenario_credentials

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class _Flat(HTMLParser):
    """What the standard library reads: start tags with attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


_NAMES = st.sampled_from(["div", "span", "table", "tr", "td", "a", "p", "b"])
_TEXT = st.text(alphabet=st.characters(blacklist_characters="<>", min_codepoint=32), max_size=12)
_ATTR = st.dictionaries(
    st.sampled_from(["id", "class", "href", "title", "data-x"]), _TEXT, max_size=3
)


@st.composite
def _fragment(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(_NAMES)
    attrs = "".join(f' {k}="{stdlib_html.escape(v, quote=True)}"' for k, v in draw(_ATTR).items())
    inner = stdlib_html.escape(draw(_TEXT), quote=False)
    if depth < 3:
        inner += "".join(draw(st.lists(_fragment(depth + 1), max_size=3)))
    return f"<{tag}{attrs}>{inner}</{tag}>"


@settings(max_examples=150, deadline=None)
@given(st.lists(_fragment(), min_size=1, max_size=4))
def test_the_document_model_reads_what_the_standard_parser_reads(parts: list[str]) -> None:
    page = "<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>"
    flat = _Flat()
    flat.feed(page)
    flat.close()
    doc = html.parse(page)
    assert [(e.tag, e.attrs) for e in doc.iter()] == flat.tags
    assert doc.root.text() == "".join(flat.text)


def test_forgiving_markup_closes_cells_rows_and_options_and_keeps_raw_text() -> None:
    doc = html.parse(
        "<table id=t><tr><td>a<td>b<tr><td>c</table>"
        "<select name=s><option value=1>x<option selected value=2>y</select>"
        "<script>if (a < b && c > d) { x('<td>'); }</script>"
        "<textarea name=n>one &amp; <two></textarea><br><p>x<p>y"
    )
    table = doc.by_id("t")
    assert table is not None
    assert [[c.text() for c in row.cells()] for row in table.rows()] == [["a", "b"], ["c"]]
    assert [o.get("value") for o in doc.iter("option")] == ["1", "2"]
    area = doc.first("textarea")
    assert area is not None and area.text() == "one & <two>"
    assert [p.text() for p in doc.iter("p")] == ["x", "y"]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_dates_read_back_in_every_culture(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    for lang in ("en", "de", "pl"):
        assert webforms.parse_time(shown_time(moment, lang)) == moment
    assert webforms.parse_time("13/45/2026 9:00:00 AM") is None
    assert webforms.parse_time("yesterday") is None


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
def test_every_status_word_the_portal_shows_reads_to_its_status(lang: str) -> None:
    for code, fact in sandbox_labels.STATUS_FACT.items():
        assert case_status(sandbox_labels.status(code, lang)) == case_status(code)
        assert case_status(sandbox_labels.W[fact][lang].upper()) == case_status(code)
    assert case_status("Awaiting Setup (Behandlungsplanung wird erwartet)") is (
        CaseStatus.AWAITING_SETUP
    )


@given(st.text(max_size=40))
def test_an_unknown_status_word_is_unknown_and_never_guessed(text: str) -> None:
    known = {labels.key(w) for words in labels.STATUSES.table.values() for w in words.values()}
    known |= {labels.key(f"{w['en']} ({w['de']})") for w in labels.STATUSES.table.values()}
    if labels.key(text) not in known:
        assert case_status(text) is CaseStatus.UNKNOWN


def _files_page(rows: str) -> html.Document:
    grid = webforms.FILES_GRID
    return html.parse(f'<table id="{grid}"><tr><th>File</th><th>Type</th></tr>{rows}</table>')


def test_stl_files_and_their_arch_in_every_language() -> None:
    rows = "".join(
        f'<tr><td><a href="/f?id={i}&amp;file=x{i}.STL">x{i}.STL</a></td><td>{kind}</td></tr>'
        for i, kind in enumerate(
            ["Upper", "Mandibular", "Oberkiefer", "Żuchwa", "MAXILLARY arch", "Bite"]
        )
    )
    rows += '<tr><td><a href="/f?id=9&amp;file=p.jpg">p.jpg</a></td><td>Photo</td></tr>'
    files = webforms.parse_files(_files_page(rows))
    assert [f.kind for f in files] == [
        "maxillary",
        "mandibular",
        "maxillary",
        "mandibular",
        "maxillary",
        "arch",
    ]
    with pytest.raises(PortalChanged) as changed:
        webforms.parse_files(html.parse("<table id=other></table>"))
    assert changed.value.facts == ("cc.wf.setup.files-grid",)


def _answer(message: str) -> httpx.Response:
    page = (
        '<html><body><form id="aspnetForm" action="./Login.aspx">'
        '<input type="hidden" name="__VIEWSTATE" value="v">'
        f'<input name="{webforms.USERNAME_FIELD}"><input type="password" '
        f'name="{webforms.PASSWORD_FIELD}"><input type="submit" name="{webforms.SIGN_IN_BUTTON}" '
        f'value="Anmelden"><span id="{webforms.SIGN_IN_ERROR}">{message}</span></form>'
        "</body></html>"
    )
    return httpx.Response(200, text=page, headers={"content-type": "text/html; charset=utf-8"})


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
def test_sign_in_answers_are_read_in_every_language(lang: str) -> None:
    word = sandbox_labels.W
    with pytest.raises(InvalidCredentials):
        webforms.sign_in_outcome(_answer(word["cc.wf.signin.msg-invalid"][lang]), NOW)
    with pytest.raises(MalformedCredentials):
        webforms.sign_in_outcome(_answer(word["cc.wf.signin.msg-password-length"][lang]), NOW)
    locked = word["cc.wf.signin.msg-locked"][lang].replace("{minutes}", "17")
    with pytest.raises(AccountLocked) as lockout:
        webforms.sign_in_outcome(_answer(locked), NOW)
    assert lockout.value.until == NOW.replace(minute=17)
    with pytest.raises(PortalChanged):
        webforms.sign_in_outcome(_answer("Something new."), NOW)


# ---- postbacks the portal answers with the sign-in page --------------------------------------

BASE = "https://portal.cc.example"
POLICY = RetryPolicy(max_attempts=3, max_total_seconds=5, initial_backoff=0.001, max_backoff=0.002)


def _page(body: str) -> httpx.Response:
    return httpx.Response(
        200,
        text=f'<html lang="de"><body>{body}</body></html>',
        headers={"content-type": "text/html; charset=utf-8"},
    )


def _list_page(group: str, rows: str = "") -> str:
    header = "".join(
        f"<th>{sandbox_labels.word(f, 'de')}</th>"
        for f in (
            "cc.list.col.order-number",
            "cc.list.col.name",
            "cc.wf.list.col.doctor",
            "cc.list.col.last-activity",
            "cc.list.col.status",
            "cc.list.col.collaborator-status",
        )
    )
    options = "".join(
        f'<option value="{g}"{" selected" if g == group else ""}>{g}</option>'
        for g in webforms.GROUPS
    )
    return (
        '<form id="aspnetForm" action="./cases.aspx">'
        f'<input type="hidden" name="__VIEWSTATE" value="{group}">'
        f'<select name="{webforms.STATUS_DROPDOWN}">{options}</select>'
        f'<table id="{webforms.CASES_GRID}"><tr>{header}</tr>{rows}</table></form>'
    )


def _signed_in() -> httpx.Response:
    return httpx.Response(
        302, headers=[("location", "/cases.aspx"), ("set-cookie", ".ASPXAUTH=AB12; path=/")]
    )


@respx.mock
async def test_a_postback_answered_with_the_sign_in_page_signs_in_once_and_redoes_it() -> None:
    respx.get(f"{BASE}/Login.aspx").mock(return_value=_answer(""))
    login = respx.post(url__startswith=f"{BASE}/Login.aspx").mock(
        side_effect=lambda _: _signed_in()
    )
    respx.get(f"{BASE}/api/account").mock(return_value=httpx.Response(404))
    respx.get(f"{BASE}/cases.aspx").mock(return_value=_page(_list_page("ActionNeeded")))
    ended = [True]

    def postback(request: httpx.Request) -> httpx.Response:
        if ended.pop() if ended else False:
            return httpx.Response(302, headers={"location": "/Login.aspx?ReturnUrl=%2fcases.aspx"})
        fields = parse_qs(request.content.decode())
        return _page(_list_page(fields[webforms.STATUS_DROPDOWN][0]))

    posts = respx.post(f"{BASE}/cases.aspx").mock(side_effect=postback)
    adapter = ClearCorrectAdapter(BASE, policy=POLICY)
    async with await adapter.open(
        scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
    ) as session:
        pages = [page async for page in session.list_cases(None)]
        assert session.logins == 2
    assert pages[-1].next_cursor is None
    assert login.call_count == 2
    assert posts.call_count == 3  # the refused postback, then both groups again
