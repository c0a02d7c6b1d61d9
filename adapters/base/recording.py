"""Recordings of portal pages with every patient datum and secret removed.

`tps-connector portal check --record DIR` keeps what a live portal showed so that a maintainer
can fix an adapter without seeing a single patient: the rendered DOM (shadow roots as
declarative shadow DOM) and the JSON the pages loaded, reduced to their *shape*.

What stays verbatim: the markup (tags, attribute names), structural attribute values (`id`,
`class`, `data-testid`, `role`, `type`, `name`, ...), and the words in `keep`: the register's
literals (labels, fixed UI words, test ids, field names) and codes. Everything else becomes its
shape: letters `a`/`A`, digits `9`, other characters as they are, each run of one class cut or
padded to a length class (so a name's length says little). A date or time keeps its format with a
fixed value (`2000-01-01T01:01:01Z`, `1/1/2000 1:01:01 PM`), so the adapters' parsers read a
recording as they read the portal while no real date (a birth date, a visit) survives. Script and
style bodies, comments, cookies and tokens are dropped; JSON values become their types; ids in
URLs become `{id}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Attributes whose values are structure, not content: kept as they are.
STRUCTURAL = frozenset(
    {
        "id", "class", "data-testid", "role", "type", "name", "for", "rel", "method", "lang",
        "dir", "hidden", "disabled", "checked", "selected", "readonly", "required", "tabindex",
        "autocomplete", "inputmode", "shadowrootmode", "aria-selected", "aria-expanded",
        "aria-hidden", "aria-current", "aria-controls", "aria-labelledby", "aria-describedby",
        "aria-live", "aria-invalid", "colspan", "rowspan", "scope", "charset", "http-equiv",
        "enctype", "target", "width", "height", "align", "valign", "data-error-code", "style",
    }
)  # fmt: skip
_STYLE_URL = re.compile(r"""url\(\s*['"]?([^'")]*)['"]?\s*\)""")
#: Attributes holding a URL: ids replaced, the rest kept.
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data-href"})
#: Elements whose content is never recorded (code can carry data; styles are noise).
DROPPED = frozenset({"script", "style", "noscript"})
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
_LENGTH_CLASSES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
_RUN = re.compile(r"[^\W\d_]+|\d+|[\W_]+", re.UNICODE)
_ID_SEGMENT = re.compile(
    r"^(?:\d{2,}|[0-9a-fA-F]{16,}|[0-9a-fA-F-]{32,36}|[A-Za-z]{0,4}[-_]?\d{3,}[A-Za-z0-9]*)$"
)


#: Dates and times as the portals write them: ISO 8601, `M/d/yyyy h:mm:ss tt`, `dd.MM.yyyy HH:mm`.
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?(?: [AP]M)?)?"
    r"|\d{1,2}\.\d{1,2}\.\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?"
)
_DIGITS = re.compile(r"\d+")
#: A file's type stays (a parser tells an STL scan from a photo by it); its name does not.
_EXTENSION = re.compile(r"\.(?:stl|ply|obj|pdf|jpe?g|png|zip)$", re.IGNORECASE)


def _fixed_date(match: re.Match[str]) -> str:
    """The date's format with fixed digits: a year is 2000, every other field 1."""

    def field(digits: re.Match[str]) -> str:
        n = len(digits.group())
        return "2000" if n == 4 else "0" * (n - 1) + "1"

    return _DIGITS.sub(field, match.group())


def _length_class(n: int) -> int:
    for size in _LENGTH_CLASSES:
        if n <= size:
            return size
    return _LENGTH_CLASSES[-1]


def shape(text: str, number: Callable[[str], str] | None = None) -> str:
    """`Anna Kowalska, #1234567` -> `Aaaa Aaaaaaaa, #99999999`: the classes of its characters,
    each run cut or padded to a length class; punctuation and spaces as they are; dates and
    times their format with fixed values. With `number`, a run of three digits or more (an id)
    becomes what it gives instead (`Keep.number`: the same stand-in for the same id)."""
    extension = _EXTENSION.search(text)
    if extension is not None:
        return shape(text[: extension.start()], number) + extension.group()
    out, at = [], 0
    for date in _DATE.finditer(text):
        out.append(_shape_runs(text[at : date.start()], number))
        out.append(_fixed_date(date))
        at = date.end()
    out.append(_shape_runs(text[at:], number))
    return "".join(out)


def _shape_runs(text: str, number: Callable[[str], str] | None) -> str:
    out = []
    for run in _RUN.findall(text):
        if run[0].isdigit():
            if number is not None and len(run) >= 3:
                out.append(number(run))
            else:
                out.append("9" * _length_class(len(run)))
        elif run[0].isalpha():
            size = _length_class(len(run))
            first = "A" if run[0].isupper() else "a"
            out.append((first + "a" * (size - 1))[:size])
        else:
            out.append(run)
    return "".join(out)


class Keep:
    """The words a recording keeps verbatim (the register's literals, codes), and the stand-ins
    of the ids it met: one recording gives the same id the same stand-in on every page (a
    list's link and the case page it leads to still agree, two cases stay two), and the
    stand-ins say only in which order the ids were met."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = {w.strip() for w in words if w.strip()}
        #: The path segments of the register's URLs (`/detail/case.aspx` -> `detail`,
        #: `case.aspx`): only these stay verbatim in a recorded URL's path.
        self.segments = {
            segment
            for word in self.words
            if "/" in word
            for segment in urlsplit(word.split(" ")[-1]).path.split("/")
            if segment
        }
        self._ids: dict[str, str] = {}
        # Known words inside a longer text ("created: <time> by <user>") stay too: whole
        # words with a letter, longest first.
        inner = sorted(
            (w for w in self.words if len(w) >= 2 and any(c.isalpha() for c in w)),
            key=len,
            reverse=True,
        )
        self._inner = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, inner)) + r")(?!\w)")
            if inner
            else None
        )

    def number(self, digits: str) -> str:
        """The stand-in of an id: `9`, then its place among the ids met, padded to the id's
        length class (`1234567` -> `90000001`)."""
        known = self._ids.get(digits)
        if known is None:
            size = _length_class(len(digits))
            place = str(len(self._ids) + 1)
            known = "9" + place.rjust(max(size - 1, len(place)), "0")
            self._ids[digits] = known
        return known

    def text(self, text: str) -> str:
        stripped = text.strip()
        if not stripped:
            return text
        if stripped in self.words:
            return text
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        if self._inner is None:
            return lead + shape(stripped, self.number) + trail
        out, at = [], 0
        for word in self._inner.finditer(stripped):
            out.append(shape(stripped[at : word.start()], self.number))
            out.append(word.group())
            at = word.end()
        out.append(shape(stripped[at:], self.number))
        return lead + "".join(out) + trail


#: A route's own path segment (`v3`, `patients`, `patientFile.action`, `case.aspx`): lower-case
#: first, letters only, a page extension at most. A capitalised word, an underscore or a file
#: extension (`Kowalska_upper.stl`) is not a route: it is shaped.
_ROUTE_SEGMENT = re.compile(
    r"v?\d{1,2}|[a-z][A-Za-z-]{0,39}(?:\.(?:aspx|action|html?|jsp|php|do))?"
)


def _segment(segment: str, keep: Keep) -> str:
    """A path segment: an id its `{id}`, a segment of the register's URLs as it is, anything
    else (a file named after a patient) its shape."""
    if not segment or segment in keep.segments or segment in keep.words:
        return segment
    if _ID_SEGMENT.match(segment):
        return "{id}"
    if _ROUTE_SEGMENT.fullmatch(segment):
        return segment
    return keep.text(segment)


def sanitize_url(url: str, keep: Keep) -> str:
    """Ids in the path become `{id}`; query values are kept only when they are known words,
    else they become their shape (an id its stand-in, as in the page's text)."""
    parts = urlsplit(url)
    segments = [_segment(s, keep) for s in parts.path.split("/")]
    query = [
        (k, v if v in keep.words else keep.text(v))
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(
        (parts.scheme, parts.netloc, "/".join(segments), urlencode(query, safe="{}"), "")
    )


class _Rewriter(HTMLParser):
    def __init__(self, keep: Keep) -> None:
        super().__init__(convert_charrefs=True)
        self.keep = keep
        self.out: list[str] = []
        self.dropping = 0

    def _attr(self, name: str, value: str | None) -> str:
        if value is None:
            return f" {name}"
        if name == "style":
            # Layout is structure, but a style can point at a photo: its URLs lose their ids.
            kept = _STYLE_URL.sub(lambda m: f"url({sanitize_url(m.group(1), self.keep)})", value)
        elif name in STRUCTURAL or (name.startswith("aria-") and value in self.keep.words):
            kept = value
        elif name in URL_ATTRIBUTES:
            kept = sanitize_url(value, self.keep)
        else:
            kept = self.keep.text(value)
        return f' {name}="{escape(kept, quote=True)}"'

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropping:
            if tag in DROPPED:
                self.dropping += 1
            return
        rendered = "".join(self._attr(name, value) for name, value in attrs)
        self.out.append(f"<{tag}{rendered}>")
        if tag in DROPPED:
            self.dropping = 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.dropping:
            rendered = "".join(self._attr(name, value) for name, value in attrs)
            self.out.append(f"<{tag}{rendered}>")

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag in DROPPED:
                self.dropping -= 1
                if self.dropping:
                    return
            else:
                return
        if tag not in VOID:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(escape(self.keep.text(data), quote=False))

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def sanitize_html(html: str, keep: Keep) -> str:
    """The page with every text and value that is not structure or a kept word reduced to its
    shape, scripts, styles and comments dropped."""
    rewriter = _Rewriter(keep)
    rewriter.feed(html)
    rewriter.close()
    return "".join(rewriter.out)


def sanitize_json(value: Any, keep: Keep, *, items: int = 3) -> Any:
    """Keys kept (an id as a key becomes `{id}`), values replaced by their types, strings kept
    only when they are known words (codes, labels); lists cut to `items` elements."""
    if isinstance(value, dict):
        return {
            ("{id}" if _ID_SEGMENT.match(str(k)) else str(k)): sanitize_json(v, keep, items=items)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [sanitize_json(v, keep, items=items) for v in value[:items]]
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, int):
        return "<int>"
    if isinstance(value, float):
        return "<float>"
    if value is None:
        return None
    text = str(value)
    return text if text in keep.words else "<str>"


def sanitize_json_text(body: str, keep: Keep) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return json.dumps("<not json>")
    return json.dumps(sanitize_json(parsed, keep), indent=2, ensure_ascii=False, sort_keys=True)
