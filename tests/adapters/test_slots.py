"""`Slots`, the connection limits' count: never more holders than slots, never a slot lost to
a cancelled waiter, first come first served, over any sequence of acquires, releases and
cancellations (also of a waiter just handed a slot)."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.http.transport import Slots

operations = st.lists(
    st.tuples(
        st.sampled_from(["acquire", "release", "cancel", "release then cancel"]), st.integers(0, 7)
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3), operations)
def test_slots_hold_their_count_over_any_sequence(limit: int, steps: list[tuple[str, int]]) -> None:
    async def scenario() -> None:
        slots = Slots(limit)
        holding: set[int] = set()
        granted: list[int] = []
        tasks: dict[int, asyncio.Task[None]] = {}
        asked: list[int] = []

        async def take(who: int) -> None:
            await slots.acquire()
            holding.add(who)
            granted.append(who)

        async def settle() -> None:
            for _ in range(3):
                await asyncio.sleep(0)

        for number, (what, pick) in enumerate(steps):
            waiting = [w for w, t in tasks.items() if not t.done()]
            if what == "acquire":
                tasks[number] = asyncio.create_task(take(number))
                asked.append(number)
            elif what == "release" and holding:
                who = sorted(holding)[pick % len(holding)]
                holding.discard(who)
                slots.release()
            elif what == "cancel" and waiting:
                tasks[waiting[pick % len(waiting)]].cancel()
            elif what == "release then cancel" and holding and waiting:
                # The slot is handed to the first waiter, cancelled before it runs again.
                holding.discard(sorted(holding)[0])
                slots.release()
                tasks[waiting[0]].cancel()
            await settle()
            still_waiting = [w for w, t in tasks.items() if not t.done()]
            assert len(holding) <= limit
            # A waiter waits only while every slot is held (none lost to a cancellation).
            assert not still_waiting or len(holding) == limit
            assert slots.locked() == (len(holding) == limit or bool(still_waiting))
        # Slots went to those that asked, in the order they asked (cancelled ones skipped).
        assert granted == [w for w in asked if w in granted]
        for task in tasks.values():
            task.cancel()
        await settle()
        for _ in holding:
            slots.release()
        await asyncio.wait_for(asyncio.gather(*(slots.acquire() for _ in range(limit))), 1)
        assert slots.locked()

    asyncio.run(scenario())
