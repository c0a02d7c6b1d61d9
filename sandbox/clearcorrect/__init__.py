"""ClearCorrect Doctor Portal sandbox, with its Partner (Collaborator) tool.

A local, realistic simulation of what a partner login sees, in English, German and Polish: by
default the ASP.NET WebForms pages public code written against the real portal shows (`.aspx`
pages posting back with view state, the Files grid of the case submission pop-up, the setup
page), and, as an assumed variant, an ASP.NET Core Identity sign-in with a JSON app. The
documented rules hold in both: 8 to 16 character passwords, a 20-minute lockout after 3 failed
sign-ins, partner permissions (view, add orders, decline setups; never approve), a decline
sending the case back to Awaiting Setup. See ROUTES.md.
"""

from sandbox.clearcorrect.app import create_app
from sandbox.clearcorrect.portal import IDENTITY_JSON, VARIANTS, WEBFORMS, ClearCorrectPortal
from sandbox.clearcorrect.scenarios import SCENARIOS
from sandbox.clearcorrect.webforms.common import LOGIN_PATH

__all__ = [
    "IDENTITY_JSON",
    "LOGIN_PATH",
    "SCENARIOS",
    "VARIANTS",
    "WEBFORMS",
    "ClearCorrectPortal",
    "create_app",
]
