"""The Invisalign Doctor Site (IDS) sandbox: a local, realistic simulation of vip.invisalign.com.

`create_app(config)` builds the Starlette app; `SCENARIOS` are its scenario logins. See ROUTES.md
for the routes, cookies, JSON shapes and the layout-2 renames.
"""

from sandbox.invisalign.app import build_app, create_app
from sandbox.invisalign.portal import InvisalignPortal
from sandbox.invisalign.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "InvisalignPortal", "build_app", "create_app"]
