"""The deterministic generator: N practices x M cases, plus the fixed scenario practice.

Every random draw comes from a `random.Random` passed in (never the global one), and every
collection is walked in insertion or sorted order, so one seed always yields the same portal.
The scenario practice draws from its own fixed generator, so its case numbers do not depend on
the seed and tests or docs can name them.

Shapes modelled on the real Partner tool:
- each practice is one doctor (the primary provider and account owner) with one per-practice
  partner login (a TPS email for that practice) granted View + Reject setups (sometimes Add
  orders) and sharing all of the doctor's cases;
- one TPS-wide partner login shared by every third practice (index 0, 3, 6, ...), each sharing
  about half its cases, so that login sees the cases of several doctors and must tell them
  apart by doctor id; every other one of those practices (index 3, 9, 15, ...) grants it View
  without Reject setups, so its rights differ per doctor;
- every share carries the doctor's patient-consent confirmation;
- every case has the doctor's first submission (STL scans of both arches and photos, once the
  records arrived); some have a revision submitted through the online form, and each setup is
  made from the submission that was newest when the technician made it;
- every login follows the browser's language until the seed (`language`) or the admin API
  gives it a profile language.
Case numbers are six-digit numbers ("318274"), as on the portal's case pages; doctor ids are
five digits. No source shows a patient id apart from the case number, so a case's patient id
is its case number.
"""

from __future__ import annotations

import random
from collections.abc import Container
from datetime import datetime, timedelta

from sandbox.clearcorrect import names
from sandbox.clearcorrect.data import (
    ADD_ORDERS,
    APPROVED,
    AWAITING_RECORDS,
    AWAITING_SETUP,
    CANCELLED,
    CLOSED,
    EVALUATING,
    HOLD,
    IN_PRODUCTION,
    IN_TREATMENT,
    LOWER,
    PHOTO,
    REJECT_SETUPS,
    SETUP_APPROVED,
    SETUP_AWAITING,
    SETUP_DECLINED,
    SETUP_SUPERSEDED,
    SHIPPED,
    STL,
    UPPER,
    VIEW,
    Case,
    CaseFile,
    Comment,
    Doctor,
    Login,
    PortalData,
    Role,
    Setup,
    SetupFile,
    Share,
    StatusChange,
    Submission,
)
from sandbox.clearcorrect.scenarios import (
    SCENARIO_DOCTOR_ID,
    SCENARIO_DOCTOR_NAME,
    SCENARIO_PRACTICE,
    SCENARIOS,
)

TPS_WIDE_USERNAME = "cases@tps-planning.example"
TPS_WIDE_EVERY = 3  # every third practice also shares cases with the TPS-wide partner

_LIFECYCLE = (
    AWAITING_RECORDS,
    AWAITING_SETUP,
    EVALUATING,
    APPROVED,
    IN_PRODUCTION,
    SHIPPED,
    IN_TREATMENT,
    CLOSED,
)
_STATUS_WEIGHTS = {
    AWAITING_RECORDS: 6,
    AWAITING_SETUP: 10,
    EVALUATING: 14,
    APPROVED: 5,
    IN_PRODUCTION: 7,
    SHIPPED: 6,
    IN_TREATMENT: 30,
    HOLD: 4,
    CANCELLED: 3,
    CLOSED: 15,
}
_SCENARIO_STATUSES = (EVALUATING, EVALUATING, AWAITING_SETUP, IN_TREATMENT, CLOSED)
_PARTNER_PERMISSIONS = frozenset({VIEW, REJECT_SETUPS})


def generate(practices: int, cases_per_practice: int, seed: int, now: datetime) -> PortalData:
    """Build a whole portal: scenario practice first, then the generated practices."""
    data = PortalData()
    _add_scenario_practice(data, now)
    rng = random.Random(seed)
    tps_wide = Login(
        username=TPS_WIDE_USERNAME,
        password=_password(rng),
        kind="partner",
        display_name="TPS Planning Team",
    )
    data.logins[tps_wide.username] = tps_wide
    data.tps_wide_username = tps_wide.username
    for index in range(practices):
        doctor = _add_practice(data, rng, index)
        partners = partners_with_view(data, doctor.doctor_id)
        for _ in range(cases_per_practice):
            make_case(data, rng, doctor.doctor_id, now, partners=partners)
    return data


def _password(rng: random.Random) -> str:
    """A 14-character password within the portal's 8..16 rule."""
    return f"Cc#{rng.randrange(16**8):08x}!Aa9"


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _unique_id(rng: random.Random, low: int, high: int, taken: Container[str]) -> str:
    while True:
        value = str(rng.randrange(low, high))
        if value not in taken:
            return value


def _add_scenario_practice(data: PortalData, now: datetime) -> None:
    """Dr. Hart's practice and the scenario logins, identical for every seed."""
    rng = random.Random("clearcorrect-scenario-practice")
    by_name = {s.name: s for s in SCENARIOS}
    doctor_login = by_name["excess"]
    data.doctors[SCENARIO_DOCTOR_ID] = Doctor(
        SCENARIO_DOCTOR_ID, SCENARIO_DOCTOR_NAME, SCENARIO_PRACTICE, doctor_login.username
    )
    for s in SCENARIOS:
        login = Login(
            username=s.username.lower(),
            password=s.password,
            kind="doctor" if s.name == "excess" else "partner",
            display_name=SCENARIO_DOCTOR_NAME if s.name == "excess" else _scenario_display(s.name),
            scenario=s.name,
        )
        if login.kind == "doctor":
            login.doctor_id = SCENARIO_DOCTOR_ID
        elif s.name == "no_view":
            login.permissions = {SCENARIO_DOCTOR_ID: frozenset()}
        else:
            login.permissions = {SCENARIO_DOCTOR_ID: _PARTNER_PERMISSIONS}
        if s.name == "email_code":
            login.mfa = "email"
        elif s.name == "totp":
            login.mfa = "totp"
            login.totp_secret = s.totp_secret
        login.password_expired = s.name == "expired"
        data.logins[login.username] = login
    for index, status in enumerate(_SCENARIO_STATUSES):
        # The first case was revised once: its second setup answers the doctor's revision.
        make_case(data, rng, SCENARIO_DOCTOR_ID, now, status=status, revised=index == 0)


def _scenario_display(name: str) -> str:
    return f"TPS {name.replace('_', ' ').title()} Partner"


def _add_practice(data: PortalData, rng: random.Random, index: int) -> Doctor:
    first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    practice = f"{last} {rng.choice(names.PRACTICE_SUFFIXES)}"
    slug = _slug(practice)
    if f"tps.{slug}@partners.tps.example" in data.logins:
        slug = f"{slug}{index}"
    doctor_id = _unique_id(rng, 10_000, 100_000, data.doctors)
    doctor = Doctor(doctor_id, f"Dr. {first} {last}", practice, f"{first}.{last}@{slug}.example")
    doctor.username = doctor.username.lower()
    data.doctors[doctor_id] = doctor
    data.logins[doctor.username] = Login(
        username=doctor.username,
        password=_password(rng),
        kind="doctor",
        display_name=doctor.name,
        doctor_id=doctor_id,
    )
    granted = set(_PARTNER_PERMISSIONS)
    if rng.random() < 0.5:
        granted.add(ADD_ORDERS)
    partner = Login(
        username=f"tps.{slug}@partners.tps.example",
        password=_password(rng),
        kind="partner",
        display_name=f"TPS Planning for {practice}",
        permissions={doctor_id: frozenset(granted)},
    )
    data.logins[partner.username] = partner
    if index % TPS_WIDE_EVERY == 0 and data.tps_wide_username:
        # Every other practice that uses the TPS-wide login lets it view but not reject.
        wide = {VIEW} if (index // TPS_WIDE_EVERY) % 2 else set(_PARTNER_PERMISSIONS)
        if rng.random() < 0.3:
            wide.add(ADD_ORDERS)
        data.logins[data.tps_wide_username].permissions[doctor_id] = frozenset(wide)
    return doctor


def partners_with_view(data: PortalData, doctor_id: str) -> list[str]:
    """The partners `doctor_id` added with the View permission (a partner without it gets
    nothing shared), in insertion order."""
    return [
        login.username
        for login in data.logins.values()
        if login.kind == "partner" and VIEW in login.permissions.get(doctor_id, frozenset())
    ]


def make_case(
    data: PortalData,
    rng: random.Random,
    doctor_id: str,
    now: datetime,
    status: str | None = None,
    age: timedelta | None = None,
    partners: list[str] | None = None,
    chat: bool = True,
    revised: bool = False,
) -> Case:
    """A case with a consistent history: statuses, setups and comments up to `now`."""
    case_id = _unique_id(rng, 100_000, 1_000_000, data.cases)
    if status is None:
        status = rng.choices(list(_STATUS_WEIGHTS), weights=list(_STATUS_WEIGHTS.values()))[0]
    if age is None:
        age = timedelta(minutes=rng.randrange(2 * 24 * 60, 540 * 24 * 60))
    created = now - age
    patient = f"{rng.choice(names.FIRST_NAMES)} {rng.choice(names.LAST_NAMES)}"
    case = Case(
        case_id=case_id,
        doctor_id=doctor_id,
        patient_name=patient,
        patient_id=case_id,
        status=AWAITING_RECORDS,
        created_at=created,
        updated_at=created,
        status_history=[StatusChange(AWAITING_RECORDS, created)],
    )
    data.cases[case_id] = case
    if partners is None:
        partners = partners_with_view(data, doctor_id)
    for username in partners:
        if username == data.tps_wide_username and rng.random() >= 0.5:
            continue  # the TPS-wide partner gets about half of a practice's cases
        case.shares[username] = Share(username, True, created + timedelta(minutes=5))
    add_submission(data, rng, case, created, records=False)
    path = _path_to(rng, status)
    if revised and EVALUATING in path and AWAITING_SETUP not in path[path.index(EVALUATING) :]:
        at = path.index(EVALUATING)
        path[at + 1 : at + 1] = [AWAITING_SETUP, EVALUATING]
    step = (now - created) / (len(path) + 2)
    for position, next_status in enumerate(path, start=1):
        moment = (created + step * position).replace(microsecond=0)
        _enter(data, rng, case, next_status, moment, revised)
    if chat:
        _add_history_comments(data, rng, case, now)
    return case


def _path_to(rng: random.Random, status: str) -> list[str]:
    """The statuses a case went through after Awaiting Records to reach `status`."""
    if status == HOLD:
        return [*_path_to(rng, rng.choice((AWAITING_SETUP, EVALUATING, IN_TREATMENT))), HOLD]
    if status == CANCELLED:
        return [*_path_to(rng, rng.choice((AWAITING_RECORDS, AWAITING_SETUP))), CANCELLED]
    path = list(_LIFECYCLE[1 : _LIFECYCLE.index(status) + 1])
    if EVALUATING in path and rng.random() < 0.3:
        # A declined first setup: Evaluating -> Awaiting Setup -> Evaluating (version 2).
        at = path.index(EVALUATING)
        path[at + 1 : at + 1] = [AWAITING_SETUP, EVALUATING]
    return path


def _enter(
    data: PortalData,
    rng: random.Random,
    case: Case,
    status: str,
    at: datetime,
    revised: bool = False,
) -> None:
    """Move the case into `status` at `at`, with the setup changes that go with it."""
    current = case.setups[-1] if case.setups else None
    doctor = data.doctors[case.doctor_id]
    if case.status == AWAITING_RECORDS and status != CANCELLED:
        receive_records(data, rng, case, at)
    if status == EVALUATING:
        declined = current is not None and current.state == SETUP_DECLINED
        if declined and (revised or rng.random() < 0.5):
            # The doctor answered the declined setup with a revision through the online form.
            add_submission(data, rng, case, at, records=True)
        add_setup(data, rng, case, at)
    elif status == AWAITING_SETUP and current is not None and current.state == SETUP_AWAITING:
        decide_setup(current, SETUP_DECLINED, doctor.name, at, rng.choice(names.DECLINE_REASONS))
    elif status == APPROVED and current is not None:
        decide_setup(current, SETUP_APPROVED, doctor.name, at)
    case.set_status(status, at)


def decide_setup(
    setup: Setup, state: str, by: str, at: datetime, reason: str | None = None
) -> None:
    setup.state = state
    setup.decided_by = by
    setup.decided_at = at
    setup.decline_reason = reason


def add_setup(data: PortalData, rng: random.Random, case: Case, at: datetime) -> Setup:
    """A technician shares a new setup version; an undecided earlier one is superseded."""
    for older in case.setups:
        if older.state == SETUP_AWAITING:
            older.state = SETUP_SUPERSEDED
    version = len(case.setups) + 1
    setup_id = data.new_setup_id()
    stem = f"{case.case_id}_v{version}"
    files = [
        SetupFile(f"{stem}_upper.stl", "model", rng.randrange(3_000_000, 9_000_000)),
        SetupFile(f"{stem}_lower.stl", "model", rng.randrange(3_000_000, 9_000_000)),
        SetupFile(f"{stem}_treatment_report.pdf", "report", rng.randrange(200_000, 900_000)),
    ]
    if rng.random() < 0.6:
        files.append(
            SetupFile(f"{stem}_ipr_chart.pdf", "ipr_chart", rng.randrange(80_000, 200_000))
        )
    setup = Setup(
        setup_id=setup_id,
        version=version,
        created_at=at,
        state=SETUP_AWAITING,
        viewer_url=f"/Cases/{case.case_id}/Setups/{setup_id}/Viewer",
        files=files,
        submission_id=case.submissions[-1].submission_id if case.submissions else None,
    )
    case.setups.append(setup)
    case.updated_at = max(case.updated_at, at)
    return setup


def _scans(data: PortalData, rng: random.Random, case: Case, version: int) -> list[CaseFile]:
    """STL scans of both arches (exports name the arch either way) and a few photos. (The
    draws once gave sizes; they are kept so a seed still makes the same cases.)"""
    stem = f"{case.case_id}_r{version}" if version > 1 else case.case_id
    upper, lower = ("upper", "lower") if rng.random() < 0.5 else ("maxillary", "mandibular")
    files = [
        CaseFile(data.new_file_id(), f"{stem}_{upper}.stl", STL, UPPER, rng.randrange(9, 40) << 18),
        CaseFile(data.new_file_id(), f"{stem}_{lower}.stl", STL, LOWER, rng.randrange(9, 40) << 18),
    ]
    for angle in rng.sample(names.PHOTO_ANGLES, 3):
        files.append(
            CaseFile(
                data.new_file_id(), f"{stem}_{angle}.jpg", PHOTO, None, rng.randrange(2, 9) << 18
            )
        )
    return files


def add_submission(
    data: PortalData, rng: random.Random, case: Case, at: datetime, *, records: bool
) -> Submission:
    """A new submission version: the first one (records may still be missing) or a revision
    sent through the online form with the doctor's instructions."""
    version = len(case.submissions) + 1
    revision = version > 1
    submission = Submission(
        submission_id=data.new_submission_id(),
        version=version,
        submitted_at=at,
        files=_scans(data, rng, case, version) if records else [],
        instructions=rng.choice(names.REVISION_INSTRUCTIONS) if revision else None,
        engagers_removal=rng.choice(names.ENGAGERS_REMOVAL),
        preference_notes=rng.choice(names.PREFERENCE_NOTES),
    )
    case.submissions.append(submission)
    return submission


def receive_records(data: PortalData, rng: random.Random, case: Case, at: datetime) -> None:
    """The scans and photos of the first submission arrive (the case leaves Awaiting Records)."""
    first = case.submissions[0] if case.submissions else None
    if first is None:
        first = add_submission(data, rng, case, at, records=False)
    if not first.files:
        first.files = _scans(data, rng, case, first.version)


def add_comment(
    data: PortalData,
    case: Case,
    role: Role,
    author_name: str,
    author_username: str | None,
    body: str,
    at: datetime,
) -> Comment:
    comment = Comment(
        comment_id=data.new_comment_id(),
        author_role=role,
        author_name=author_name,
        author_username=author_username,
        body=body,
        created_at=at,
    )
    if author_username is not None:
        comment.read_by.add(author_username)
    case.comments.append(comment)
    case.updated_at = max(case.updated_at, at)
    return comment


def random_comment(
    data: PortalData, rng: random.Random, case: Case, at: datetime, role: Role | None = None
) -> Comment:
    """A chat message from the technician, the doctor or a partner the case is shared with."""
    partners = sorted(case.shares)
    if role is None:
        roles: list[Role] = ["technician", "doctor"]
        if partners:
            roles.append("partner")
        role = rng.choice(roles)
    if role == "technician":
        body = rng.choice(names.TECHNICIAN_MESSAGES).format(version=max(len(case.setups), 1))
        return add_comment(data, case, role, rng.choice(names.TECHNICIANS), None, body, at)
    if role == "partner" and partners:
        partner = data.logins[rng.choice(partners)]
        body = rng.choice(names.PARTNER_MESSAGES)
        return add_comment(data, case, role, partner.display_name, partner.username, body, at)
    doctor = data.doctors[case.doctor_id]
    body = rng.choice(names.DOCTOR_MESSAGES)
    return add_comment(data, case, "doctor", doctor.name, doctor.username, body, at)


def _add_history_comments(data: PortalData, rng: random.Random, case: Case, now: datetime) -> None:
    """Past chat; older messages are mostly read by everyone, the last two often are not."""
    count = rng.randrange(0, 6)
    span = max((now - case.created_at).total_seconds(), 60.0)
    offsets = sorted(rng.uniform(0, span) for _ in range(count))
    viewers = [data.doctors[case.doctor_id].username, *sorted(case.shares)]
    for position, offset in enumerate(offsets):
        at = (case.created_at + timedelta(seconds=offset)).replace(microsecond=0)
        comment = random_comment(data, rng, case, at)
        recent = position >= count - 2
        for viewer in viewers:
            if rng.random() < (0.4 if recent else 0.9):
                comment.read_by.add(viewer)
