"""What both sandbox portals share: configuration, virtual clock, faults, request log, admin
guard and an in-process server runner.

The sandboxes are the other side of the wire: nothing here imports the connector, the adapters
or the vault.
"""

from sandbox.common.clock import VirtualClock
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import Faults, FaultsMiddleware
from sandbox.common.recorder import Recorder, RecorderMiddleware
from sandbox.common.scenarios import Outcome, ScenarioLogin
from sandbox.common.server import PortalHandle, RunningServer, serve, start_portal

__all__ = [
    "Faults",
    "FaultsMiddleware",
    "Outcome",
    "PortalHandle",
    "Recorder",
    "RecorderMiddleware",
    "RunningServer",
    "SandboxConfig",
    "ScenarioLogin",
    "VirtualClock",
    "serve",
    "start_portal",
]
