"""ClearCorrect Doctor Portal sandbox, with its Partner (Collaborator) tool.

A local, realistic simulation: ASP.NET Core-style login form with anti-forgery token and a
3-strikes lockout, optional e-mailed or authenticator codes, expired passwords, server-rendered
cases pages for people and the JSON API their script (and an adapter) uses. See ROUTES.md.
"""

from sandbox.clearcorrect.app import create_app
from sandbox.clearcorrect.markup import LOGIN_PATH
from sandbox.clearcorrect.portal import ClearCorrectPortal
from sandbox.clearcorrect.scenarios import SCENARIOS

#: `LOGIN_PATH`: where the password is posted (tests aim faults at it).
__all__ = ["LOGIN_PATH", "SCENARIOS", "ClearCorrectPortal", "create_app"]
