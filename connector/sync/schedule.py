"""When an account's next sync is due, from the outcome of its last one.

The next due time lives on the account row, so a restart (or another machine) picks up exactly
where scheduling left off.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.domain import AccountStatus

#: Statuses that stop scheduling until a person acts (new credentials, a code, resume).
STOPPED = frozenset(
    {AccountStatus.LOGIN_REQUIRED, AccountStatus.MFA_REQUIRED, AccountStatus.DISABLED}
)


@dataclass(frozen=True)
class SchedulePolicy:
    interval: timedelta = timedelta(minutes=15)
    jitter: float = 0.1  # +-10% of the interval, so accounts spread out
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_max: timedelta = timedelta(hours=1)
    full_listing_every: timedelta = timedelta(hours=24)
    lock_margin: timedelta = timedelta(seconds=30)

    def after_success(self, now: datetime) -> datetime:
        spread = self.interval.total_seconds() * self.jitter
        return now + self.interval + timedelta(seconds=random.uniform(-spread, spread))

    def after_failure(self, now: datetime, failures: int) -> datetime:
        """Exponential backoff with jitter for transient failures (1, 2, 4 ... up to 60 min)."""
        delay = min(
            self.backoff_max.total_seconds(),
            self.backoff_base.total_seconds() * 2 ** max(0, failures - 1),
        )
        return now + timedelta(seconds=random.uniform(delay / 2, delay))

    def next_due(
        self,
        status: AccountStatus,
        now: datetime,
        *,
        failures: int,
        locked_until: datetime | None,
        transient: bool,
    ) -> datetime | None:
        if status in STOPPED:
            return None
        if status is AccountStatus.LOCKED:
            return (locked_until or now) + self.lock_margin
        if transient:
            return self.after_failure(now, failures)
        return self.after_success(now)
