"""The routers: `/v1` ones get the bearer-token dependency and the common error responses."""

from fastapi import APIRouter

from connector.api.routes import (
    accounts,
    actions,
    cases,
    changes,
    files,
    health,
    practices,
    vendors,
    webhooks,
)

V1_ROUTERS: list[APIRouter] = [
    accounts.router,
    cases.router,
    files.router,
    actions.router,
    changes.router,
    practices.router,
    webhooks.router,
    vendors.router,
]
ROUTERS: list[APIRouter] = [health.router]
