"""Syncing accounts: the per-account engine and the embedded scheduler."""

from connector.sync.engine import LeaseLost, SyncResult, sync_account
from connector.sync.schedule import SchedulePolicy
from connector.sync.scheduler import Scheduler
from connector.sync.services import SyncServices

__all__ = [
    "LeaseLost",
    "SchedulePolicy",
    "Scheduler",
    "SyncResult",
    "SyncServices",
    "sync_account",
]
