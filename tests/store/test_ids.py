"""Server-made ids: 26 Crockford base32 digits that sort as the time they were made."""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from connector.store.ids import _ALPHABET, encode_id, new_id


def digit_by_digit(value: int) -> str:
    """The definition: five bits per digit, most significant first."""
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_the_encoding_is_base32_of_the_value(value: int) -> None:
    assert encode_id(value) == digit_by_digit(value)


def test_ids_sort_by_the_time_they_were_made() -> None:
    earlier = new_id("case")
    time.sleep(0.002)
    later = new_id("case")
    assert earlier.startswith("case_") and len(earlier) == len("case_") + 26
    assert earlier < later
    assert set(earlier[5:]) <= set(_ALPHABET)


def decode(digits: str) -> int:
    return sum(_ALPHABET.index(d) << (5 * i) for i, d in enumerate(reversed(digits)))


def test_an_id_is_the_time_and_80_random_bits_of_its_definition() -> None:
    before = int(time.time() * 1000)
    made = [new_id("evt") for _ in range(2000)]  # more than one batch of random parts
    after = int(time.time() * 1000)
    values = [decode(i[4:]) for i in made]
    assert all(before <= v >> 80 <= after for v in values)
    assert all(encode_id(v) == i[4:] for v, i in zip(values, made, strict=True))
    randoms = [v & (2**80 - 1) for v in values]
    assert len(set(randoms)) == len(randoms)
    # Not a counter: the random parts of consecutive ids share no structure to speak of.
    assert sum(bin(a ^ b).count("1") for a, b in itertools.pairwise(randoms)) / 1999 > 30


def test_threads_never_share_an_id() -> None:
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: [new_id("cmt") for _ in range(500)], range(8)))
    every = [i for ids in made for i in ids]
    assert len(set(every)) == len(every) == 4000


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    new_id("case")  # the parent holds a batch of encoded random parts
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's side
        os.close(reader)
        os.write(writer, " ".join(new_id("case") for _ in range(50)).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        theirs = set(pipe.read().split())
    os.waitpid(child, 0)
    ours = {new_id("case") for _ in range(50)}
    assert len(theirs) == 50
    assert {i[15:] for i in theirs}.isdisjoint({i[15:] for i in ours})
