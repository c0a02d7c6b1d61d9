"""Form sessions in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from connector.accounts.service import remove_account
from connector.clock import utcnow
from connector.forms.links import new_token
from connector.store import Store
from connector.store import form_sessions as records
from tests.conftest import BOTH_DATABASES
from tests.sync.support import add, make_vault


@BOTH_DATABASES
async def test_a_form_session_lives_and_ends_in_the_store(store: Store) -> None:
    now = utcnow()
    token = new_token()
    account = await add(
        store,
        make_vault(store),
        "clearcorrect",
        {"username": "a@b.example", "password": "Pass#word2026"},
    )
    async with store.transaction() as conn:
        session = await records.insert_session(
            conn,
            token=token,
            vendor="clearcorrect",
            practice_id="p-1",
            account_id=None,
            locale="de",
            return_url=None,
            now=now,
            ttl=timedelta(minutes=30),
        )
        expired = await records.insert_session(
            conn,
            token=new_token(),
            vendor="invisalign",
            practice_id=None,
            account_id=None,
            locale=None,
            return_url=None,
            now=now - timedelta(days=8),
            ttl=timedelta(minutes=30),
        )
    async with store.read() as conn:
        found = await records.find_by_token(conn, token)
        assert found == session
        assert await records.find_by_token(conn, token + "x") is None
        assert await records.find_by_token(conn, "") is None
    assert not session.expired(now) and session.expired(now + timedelta(minutes=30))
    async with store.transaction() as conn:
        await records.set_account(conn, session.id, account.id, now)
        assert await records.record_outcome(conn, session.id, "wrong_password", now, final=False)
        assert await records.record_outcome(conn, session.id, "connected", now, final=True)
        assert not await records.record_outcome(conn, session.id, "cancelled", now, final=True)
        assert await records.purge_expired(conn, now) == 1
    async with store.read() as conn:
        stored = await records.get_session(conn, session.id)
        assert stored is not None and stored.consumed and stored.outcome == "connected"
        assert stored.account_id == account.id
        assert await records.get_session(conn, expired.id) is None
    # Deleting the account ends its form sessions with it.
    await remove_account(store, account.id, reason="test")
    async with store.read() as conn:
        assert await records.get_session(conn, session.id) is None
