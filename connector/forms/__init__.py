"""The update-credentials form dentists use (`/forms/{token}`) and its form-session API.

`POST /v1/form-sessions` (bearer token) makes a short-lived link; the dentist's browser opens
it, and the pages in `pages` verify the typed login live (`connector.verify`) and store it.
"""

from fastapi import APIRouter

from connector.forms import api, pages

#: Routers under /v1 (bearer token): form sessions.
FORM_V1_ROUTERS: list[APIRouter] = [api.router]
#: Routers for dentists' browsers (no bearer token): the form pages.
FORM_ROUTERS: list[APIRouter] = [pages.router]

__all__ = ["FORM_ROUTERS", "FORM_V1_ROUTERS"]
