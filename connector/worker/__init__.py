"""Distributed workers: procrastinate jobs on PostgreSQL running the same sync, action and
webhook code as the embedded scheduler."""

from connector.store.jobs import live_workers, waiting_jobs
from connector.worker.jobs import WorkerContext, build_app, conninfo, install_procrastinate

__all__ = [
    "WorkerContext",
    "build_app",
    "conninfo",
    "install_procrastinate",
    "live_workers",
    "waiting_jobs",
]
