"""The portal's in-memory data with the indexes its pages need to stay fast at 10,000 cases.

Every login sees the cases of its doctor, newest activity first, so the one index that matters
is "doctor -> cases sorted by last activity". It is re-sorted lazily: a change marks the doctor's
list dirty and the next listing sorts it once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox.invisalign.data import Case, Doctor, Login


@dataclass
class Dataset:
    doctors: dict[str, Doctor] = field(default_factory=dict)
    logins: dict[str, Login] = field(default_factory=dict)  # by lower-cased username
    cases: dict[str, Case] = field(default_factory=dict)  # insertion order is deterministic
    next_setup_id: int = 48_200_001
    next_comment_id: int = 7_300_001
    _by_doctor: dict[str, list[Case]] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)
    _owner: dict[str, Login] = field(default_factory=dict)
    _staff: dict[str, list[Login]] = field(default_factory=dict)

    def add_doctor(self, doctor: Doctor) -> None:
        self.doctors[doctor.doctor_id] = doctor
        self._by_doctor.setdefault(doctor.doctor_id, [])

    def add_login(self, login: Login) -> None:
        self.logins[login.username.lower()] = login
        if login.kind == "doctor":
            self._owner[login.doctor_id] = login
        else:
            self._staff.setdefault(login.doctor_id, []).append(login)

    def add_case(self, case: Case) -> None:
        if case.case_id in self.cases:
            raise ValueError(f"duplicate patient id {case.case_id}")
        self.cases[case.case_id] = case
        self._by_doctor.setdefault(case.doctor_id, []).append(case)
        self._dirty.add(case.doctor_id)

    def touched(self, case: Case) -> None:
        """Call after a case's `updated_at` changed, so listings re-sort it."""
        self._dirty.add(case.doctor_id)

    def login(self, username: str) -> Login | None:
        return self.logins.get(username.strip().lower())

    def doctor_cases(self, doctor_id: str) -> list[Case]:
        """The doctor's cases, last activity first (ties: higher patient id first)."""
        cases = self._by_doctor.get(doctor_id, [])
        if doctor_id in self._dirty:
            cases.sort(key=lambda c: (c.updated_at, c.case_id), reverse=True)
            self._dirty.discard(doctor_id)
        return cases

    def visible_cases(self, login: Login) -> list[Case]:
        return self.doctor_cases(login.doctor_id) if login.can_view else []

    def visible_case(self, login: Login, case_id: str) -> Case | None:
        case = self.cases.get(case_id)
        if case is None or not login.can_view or case.doctor_id != login.doctor_id:
            return None
        return case

    def new_patient_id(self, rng: random.Random) -> str:
        while True:
            candidate = str(rng.randint(1_000_000, 9_999_999))
            if candidate not in self.cases:
                return candidate

    def new_setup_id(self) -> str:
        value, self.next_setup_id = self.next_setup_id, self.next_setup_id + 1
        return str(value)

    def new_comment_id(self) -> str:
        value, self.next_comment_id = self.next_comment_id, self.next_comment_id + 1
        return str(value)

    def owner(self, doctor_id: str) -> Login | None:
        """The doctor's own login (the account owner)."""
        return self._owner.get(doctor_id)

    def staff(self, doctor_id: str) -> list[Login]:
        return self._staff.get(doctor_id, [])
