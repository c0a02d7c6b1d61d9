"""Readers of the pages a person sees: the patient list (cards in an open shadow root, or the
classic table), the patient file, the profile and the account menu, parsed from a page snapshot
(`html.parse`), in any of the site's languages.

The adapter's primary path stands on these: the list's cards and columns, its filter markers and
the patient file's URL are confirmed by public code written against the real site. What the sync
needs beyond them (a card's last activity and unread count, plans, comments, roles) comes from
readers of assumed facts, listed in `site.UNVERIFIED`. Parsing is strict: a missing or renamed
test id raises `PortalChanged` naming the facts that no longer hold, never an empty result,
because an empty listing would look like "every case was removed". Details name facts and test
ids only, never values: values are patient data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from adapters.base import Comment, PortalChanged, Setup, SetupFile, utc
from adapters.http.parse import absolute_url
from adapters.invisalign import site, status
from adapters.invisalign.html import Element

_SHOWN_ID = re.compile(r"#([0-9]{1,12})")
_NUMBER = re.compile(r"[0-9]+")
#: "Name (#123)": the classic table's patient cell.
_PATIENT_CELL = re.compile(r"^(?P<name>.+?)\s*\(#(?P<id>[0-9]{1,12})\)\s*$", re.S)


def _words(labels: dict[str, str]) -> set[str]:
    return {_norm(word) for word in labels.values()}


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _text(element: Element | None) -> str:
    return " ".join(element.text().split()) if element is not None else ""


def parse_time(raw: str | None, what: str, facts: tuple[str, ...]) -> datetime:
    try:
        parsed = utc(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        raise PortalChanged(f"{what}: a time is not in ISO 8601", facts)
    return parsed


# The patient list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A patient's first card (their current treatment) or first table row."""

    patient_id: str
    name: str
    status: str
    doctor_name: str | None
    unread: int
    last_activity: datetime | None

    def __repr__(self) -> str:  # names are patient data
        return f"Row({self.patient_id!r})"


ListState = Literal["ok", "empty", "no_access", "load_error", "pending"]


@dataclass(frozen=True)
class ListView:
    state: ListState
    layout: Literal["cards", "table", "unknown"] = "unknown"
    #: How the page filters: the dropdown, the legacy tabs (cards or table), or None seen.
    control: Literal["dropdown", "tabs"] | None = None
    action_filter_on: bool = False
    rows: tuple[Row, ...] = ()
    has_next: bool = False
    next_href: str | None = None
    page_info: str | None = None


_LIST_FACTS = ("ids.list.card", "ids.list.empty-container", "ids.list.classic-table")


def read_list(root: Element) -> ListView:
    """What a snapshot of the patient list shows; `pending` while it has not rendered yet."""
    if root.first(site.NO_ACCESS) is not None:
        return ListView("no_access")
    if root.first(site.LOAD_ERROR) is not None:
        return ListView("load_error")
    control, action_on = _filter_state(root)
    table = _patient_table(root)
    if table is not None:
        rows, has_next, href = _read_table(root, table)
        return ListView("ok", "table", control, action_on, rows, has_next, href)
    cards = root.select(site.CARD)
    if cards:
        rows = _first_per_patient(_read_card(card) for card in cards)
        next_button = root.first(site.PAGE_NEXT)
        has_next = next_button is not None and next_button.get("disabled") is None
        info = _text(root.first(site.PAGE_INFO)) or None
        return ListView("ok", "cards", control, action_on, rows, has_next, page_info=info)
    if root.first(site.EMPTY_CONTAINER) is not None or root.first(site.EMPTY_TEXT) is not None:
        info = _text(root.first(site.PAGE_INFO)) or None
        if root.first(site.SHADOW_HOST) is not None:
            return ListView("empty", "cards", control, action_on, page_info=info)
        return ListView("empty", "table", control, action_on, page_info=info)
    if root.first(site.LIST_ROOT) is not None:
        # Rendered, yet neither cards nor the empty state: the list's markup changed.
        raise PortalChanged("patient list: the list shows no known cards", _LIST_FACTS)
    if root.first(f"{site.LIST_CONTAINER} {site.TABLE}") is not None:
        facts = ("ids.list.classic-col.patient", "ids.list.classic-col.order-status")
        raise PortalChanged("patient list: the table has no known columns", facts)
    return ListView("pending", control=control, action_filter_on=action_on)


def _filter_state(root: Element) -> tuple[Literal["dropdown", "tabs"] | None, bool]:
    """Which filter control the list has and whether Action required is on (the markers S2
    checks: the tag, the active-filter bar naming the filter, or the legacy tab selected)."""
    if root.first(site.FILTER_CONTAINER) is not None:
        if root.first(site.FILTER_TAG_ACTION) is not None:
            return "dropdown", True
        bar = root.first(site.ACTIVE_FILTERS) or root.first(site.ACTIVE_FILTERS_BAR)
        named = _norm(_text(bar))
        on = bool(named) and any(
            w in named for w in _words(site.STATUSES["ids.status.action-required"])
        )
        return "dropdown", on
    if root.first(site.LEGACY_TAB) is not None:
        return "tabs", root.first(site.LEGACY_TAB_ON) is not None
    return None, False


def _read_card(card: Element) -> Row:
    what = "patient card"
    shown = _SHOWN_ID.fullmatch(_text(card.first(site.CARD_ID)))
    if shown is None:
        raise PortalChanged(f"{what}: no patient number '#digits'", ("ids.list.id",))
    name = _text(card.first(site.CARD_NAME))
    if not name:
        raise PortalChanged(f"{what}: no patient name", ("ids.list.name",))
    raw_status = _text(card.first(site.CARD_STATUS))
    if not raw_status:
        raise PortalChanged(f"{what}: no tracker status", ("ids.list.status",))
    doctor = None
    for line in card.select(site.CARD_DOCTOR_LINE):
        before, dot, after = _text(line).partition("\u00b7")
        if dot and _SHOWN_ID.search(before):
            doctor = after.strip() or None
            break
    return Row(
        patient_id=shown.group(1),
        name=name,
        status=raw_status,
        doctor_name=doctor,
        unread=_unread(card),
        last_activity=_last_activity(card, site.CARD_LAST_ACTIVITY, "ids.list.last-activity"),
    )


def _unread(element: Element) -> int:
    found = _NUMBER.search(_text(element.first(site.CARD_UNREAD)))
    return int(found.group()) if found else 0


def _last_activity(element: Element, selector: str, fact: str) -> datetime | None:
    """The assumed last-activity time, or None where the page shows none."""
    found = element.first(selector)
    if found is None:
        return None
    return parse_time(found.get("datetime"), "patient list", (fact,))


def _first_per_patient(rows: Iterable[Row]) -> tuple[Row, ...]:
    """A patient's first card or row stands for them (the current treatment comes first)."""
    kept: dict[str, Row] = {}
    for row in rows:
        kept.setdefault(row.patient_id, row)
    return tuple(kept.values())


def _patient_table(root: Element) -> Element | None:
    """The classic table: a `table` whose header names the patient and the order status."""
    for table in root.select(site.TABLE):
        headers = {_norm(_text(th)) for th in table.select("th")}
        if headers & _words(site.COLUMN_PATIENT) and headers & _words(site.COLUMN_ORDER_STATUS):
            return table
    return None


def _read_table(root: Element, table: Element) -> tuple[tuple[Row, ...], bool, str | None]:
    header = [_norm(_text(th)) for th in table.select("th")]

    def column(labels: dict[str, str]) -> int | None:
        words = _words(labels)
        return next((i for i, h in enumerate(header) if h in words), None)

    patient, order = column(site.COLUMN_PATIENT), column(site.COLUMN_ORDER_STATUS)
    assert patient is not None and order is not None  # _patient_table found both
    rows = []
    for tr in table.select("tr"):
        cells = [c for c in tr.children if isinstance(c, Element) and c.tag == "td"]
        if not cells:
            continue
        if len(cells) <= max(patient, order):
            raise PortalChanged("patient table: a row lacks columns", ("ids.list.classic-table",))
        shown = _PATIENT_CELL.match(_text(cells[patient].first("a") or cells[patient]))
        if shown is None:
            facts = ("ids.list.classic-patient-cell",)
            raise PortalChanged("patient table: a patient cell is not 'Name (#id)'", facts)
        raw_status = _text(cells[order])
        if not raw_status:
            raise PortalChanged(
                "patient table: no order status", ("ids.list.classic-col.order-status",)
            )
        rows.append(
            Row(
                patient_id=shown.group("id"),
                name=" ".join(shown.group("name").split()),
                status=raw_status,
                doctor_name=None,
                unread=_unread(cells[patient]),
                last_activity=_last_activity(
                    tr, site.TABLE_LAST_ACTIVITY, "ids.list.classic-last-activity"
                ),
            )
        )
    link = root.first(site.TABLE_NEXT)
    href = link.get("href") if link is not None else None
    return _first_per_patient(rows), bool(href), href


# The patient file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientFile:
    state: Literal["ok", "not_found", "no_access", "load_error", "pending"]
    patient_id: str = ""
    name: str = ""
    status: str = ""
    doctor_name: str | None = None
    action_required: bool = False
    setups: tuple[Setup, ...] = ()
    comments: tuple[Comment, ...] = ()
    #: The newest time the page shows (status history, plans, comments): its last activity.
    latest: datetime | None = None

    def __repr__(self) -> str:
        return f"PatientFile({self.state}, {self.patient_id!r})"


_CASE_FACTS = ("ids.case.name", "ids.case.id", "ids.case.doctor")


def read_patient_file(root: Element, base_url: str) -> PatientFile:
    """A snapshot of `patientFile.action` (all of it read by unverified readers: no source shows
    the patient file's content); `pending` while the page script has not rendered it."""
    error = root.first(site.ERROR_PAGE)
    if error is not None:
        return PatientFile(
            "not_found" if error.get(site.ERROR_PAGE_STATUS) == "404" else "no_access"
        )
    if root.first(site.NO_ACCESS) is not None:
        return PatientFile("no_access")
    if root.first(site.LOAD_ERROR) is not None:
        return PatientFile("load_error")
    host = root.first(site.CASE_HOST)
    if host is None or host.first(site.CASE_DOCTOR) is None:
        app = host.first(site.APP_ROOT) if host is not None else None
        rendered = [c for c in app.children if isinstance(c, Element)] if app is not None else []
        if rendered and host is not None and host.first(site.LOADING) is None:
            # Rendered, yet without the patient's header: the page's markup changed.
            raise PortalChanged("patient file: the page shows no known patient", _CASE_FACTS)
        return PatientFile("pending")
    what = "patient file"
    shown = _SHOWN_ID.fullmatch(_text(host.first(site.CASE_ID)))
    name = _text(host.first(site.CASE_NAME))
    raw_status = _text(host.first(site.CASE_STATUS))
    if shown is None or not name or not raw_status:
        raise PortalChanged(
            f"{what}: no patient name, number or status", (*_CASE_FACTS, "ids.case.status")
        )
    moments = [
        parse_time(t.get("datetime"), what, ("ids.case.history-item",))
        for item in host.select(site.CASE_HISTORY_ITEM)
        for t in item.select("time")
    ]
    setups = tuple(_read_plan(plan, base_url) for plan in reversed(host.select(site.PLAN)))
    comments = tuple(_read_comment(c) for c in host.select(site.COMMENT))
    moments += [s.created_at for s in setups if s.created_at is not None]
    moments += [c.created_at for c in comments if c.created_at is not None]
    return PatientFile(
        state="ok",
        patient_id=shown.group(1),
        name=name,
        status=raw_status,
        doctor_name=_text(host.first(site.CASE_DOCTOR)) or None,
        action_required=host.first(site.CARD_ACTION_REQUIRED) is not None,
        setups=setups,
        comments=comments,
        latest=max(moments, default=None),
    )


_PLAN_FACTS = ("ids.plan.card", "ids.plan.id-attr", "ids.plan.version-attr")


def _read_plan(plan: Element, base_url: str) -> Setup:
    what = "ClinCheck plan"
    plan_id, version = plan.get(site.PLAN_ID_ATTRIBUTE), plan.get(site.PLAN_VERSION_ATTRIBUTE)
    if not plan_id or not version or not version.isdigit() or int(version) < 1:
        raise PortalChanged(f"{what}: no plan id or version", _PLAN_FACTS)
    raw_state = _text(plan.first(site.PLAN_STATE))
    state = status.plan_state(raw_state)
    if state is None:
        raise PortalChanged(
            f"{what}: unknown plan state", ("ids.plan.state-cell", "ids.plan.state.ready")
        )
    created = plan.first(site.PLAN_CREATED)
    viewer = plan.first(site.PLAN_VIEWER)
    href = viewer.get("href") if viewer is not None else None
    return Setup(
        vendor_setup_id=plan_id,
        version=int(version),
        created_at=parse_time(created.get("datetime"), what, ("ids.plan.created",))
        if created is not None
        else None,
        state=state,
        vendor_state=raw_state,
        viewer_url=absolute_url(base_url, href) if href else None,
        files=tuple(_read_file(f) for f in plan.select(site.PLAN_FILE)),
    )


def _read_file(element: Element) -> SetupFile:
    name = _text(element.first("span"))
    kind = element.get(site.PLAN_FILE_KIND)
    size = element.first(site.PLAN_FILE_BYTES)
    raw = size.get("data-bytes") if size is not None else None
    if not name or not kind:
        raise PortalChanged(
            "ClinCheck plan file: no name or kind", ("ids.plan.file", "ids.plan.file-kind-attr")
        )
    return SetupFile(name, kind, int(raw) if raw and raw.isdigit() else None)


_COMMENT_FACTS = ("ids.comment.card", "ids.comment.id-attr", "ids.comment.role-attr")


def _read_comment(element: Element) -> Comment:
    what = "comment"
    comment_id = element.get(site.COMMENT_ID_ATTRIBUTE)
    role_element = element.first(site.COMMENT_ROLE)
    role = (
        status.author_role(role_element.get(site.COMMENT_ROLE_ATTRIBUTE) or "")
        if role_element
        else None
    )
    author = _text(element.first(site.COMMENT_AUTHOR))
    if not comment_id or role is None or not author:
        raise PortalChanged(f"{what}: no id, author or known author role", _COMMENT_FACTS)
    date = element.first(site.COMMENT_DATE)
    body = element.first(site.COMMENT_BODY)
    if body is None:
        raise PortalChanged(f"{what}: no body", ("ids.comment.body",))
    return Comment(
        vendor_comment_id=comment_id,
        author_role=role,
        author_name=author,
        body=body.text(),  # as typed: whitespace is the author's
        created_at=parse_time(date.get("datetime"), what, ("ids.comment.date",)) if date else None,
        unread=element.get(site.COMMENT_UNREAD_ATTRIBUTE) == "true",
    )


# Who the login is --------------------------------------------------------------------------------


def doctor_only_tabs(root: Element) -> bool:
    """Whether the account menu shows a tab only the doctor sees (Personel, Profil lekarza).
    Staff never see them (confirmed rule); the menu's markup is assumed."""
    menu = site.ACCOUNT_TABS.rsplit(" ", 1)[0]
    if root.first(menu) is None:
        raise PortalChanged("the account menu is not where it was", ("ids.menu.account-tabs",))
    shown = {_norm(_text(tab)) for tab in root.select(site.ACCOUNT_TABS)}
    return any(shown & _words(labels) for labels in site.DOCTOR_ONLY_TABS)


@dataclass(frozen=True)
class ProfileView:
    username: str
    roles: tuple[str, ...]  # as the page names them; empty for the account owner


def read_profile(root: Element) -> ProfileView:
    """The profile page's roles (an assumed page: `portal check` reports it unverified)."""
    username = _text(root.first(site.PROFILE_USERNAME))
    items = [_text(e) for e in root.select(site.PROFILE_ROLE)]
    if not username:
        raise PortalChanged("profile: no username shown", ("ids.profile.url", "ids.profile.email"))
    owner = _words(site.PROFILE_OWNER)
    return ProfileView(username, tuple(i for i in items if i and _norm(i) not in owner))
