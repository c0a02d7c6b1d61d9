"""schemathesis against the app's own OpenAPI document, in-process, with every check: for every
operation, generated valid and invalid requests (with a valid token) get no 5xx, every answer
matches the document (status declared, body schema, content type, headers), schema-valid requests
are never refused as malformed (`positive_data_acceptance`: the schemas carry the real rules),
invalid ones are refused, and requests without the bearer token are refused.

The app's lifespan (engines, vault) runs on schemathesis' own event loop thread (DESIGN.md
section 8); the database is seeded beforehand so that lists have items to validate.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from connector.accounts.service import create_account
from connector.api.app import create_app
from connector.domain import EventType
from connector.runtime import open_runtime
from connector.settings import Settings
from connector.store.events import append_event
from tests.api.conftest import TOKEN, seed_cases, settings_for
from vault import Secret

#: The token goes through schemathesis' own auth for the document's `bearer` scheme (not a
#: fixed header), so that the cases without it (the `ignored_auth` check, negative cases that
#: drop the header) really go out without it.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {"auth": {"openapi": {"bearer": {"bearer": TOKEN}}}}
)


async def _seed(settings: Settings) -> None:
    async with open_runtime(settings) as rt:
        account = await create_account(
            rt.store,
            rt.vault,
            vendor="clearcorrect",
            username="fuzz@tps.example",
            password=Secret("Fuzz-password-0001"),
        )
        await seed_cases(rt.store, account.id, range(5), setups=True)
        async with rt.store.transaction() as conn:
            await append_event(
                conn,
                type=EventType.ACCOUNT_STATUS_CHANGED,
                account_id=account.id,
                subject_id=account.id,
                data=account.to_json(),
                now=account.created_at,
            )


# Built at import: schemathesis' pytest integration needs the schema at collection time (its
# `from_fixture` does not work with pytest 9). Loading /openapi.json starts the app's lifespan on
# schemathesis' loop thread, which migrates the throwaway database; the fixture below seeds it.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="tpsc-fuzz-"))
SEEN: dict[str, set[int]] = {}
_SETTINGS = settings_for(_DATA_DIR)
_APP = create_app(_SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def seeded() -> Iterator[None]:
    asyncio.run(_seed(_SETTINGS))
    try:
        yield
    finally:
        # Close the lifespan schemathesis started (engines, files) now rather than at exit.
        from schemathesis.python import asgi

        asgi.shutdown_lifespans()
        shutil.rmtree(_DATA_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_matches_its_openapi_document(case: Any) -> None:
    response = case.call_and_validate()
    SEEN.setdefault(case.operation.label, set()).add(response.status_code)


def test_generated_requests_got_past_the_token() -> None:
    """401 is an acceptable answer to every check: make sure the token was really sent."""
    assert SEEN, "the fuzz test above did not run"
    for operation, statuses in SEEN.items():
        assert statuses - {401}, f"{operation} only ever answered 401"
