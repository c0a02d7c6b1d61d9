"""What syncs and actions need, built once per process."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.base import Adapter
from connector.store.database import Store
from connector.sync.schedule import SchedulePolicy
from vault import Vault


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class SyncServices:
    """What a sync needs; built once per process and shared by every sync it runs."""

    store: Store
    vault: Vault
    adapters: Mapping[str, Adapter]
    policy: SchedulePolicy = field(default_factory=SchedulePolicy)
    holder: str = field(default_factory=default_holder)
    # Short, and renewed after every case: a holder that vanishes blocks the account briefly.
    lease_ttl: timedelta = timedelta(minutes=2)
