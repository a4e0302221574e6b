"""domain.batching: calls of one turn answered by one call, each caller with its own answer."""

from __future__ import annotations

import asyncio

import pytest

from domain.batching import Batch


async def test_calls_made_together_are_answered_by_one_call_each_with_its_own_result() -> None:
    calls: list[list[int]] = []

    async def many(keys: list[int]) -> list[int | BaseException]:
        calls.append(keys)
        await asyncio.sleep(0)
        return [ValueError(f"no {key}") if key == 3 else key * 10 for key in keys]

    batch: Batch[int, int] = Batch(many)
    results = await asyncio.gather(*(batch(key) for key in range(5)), return_exceptions=True)
    assert calls == [[0, 1, 2, 3, 4]]
    assert results[:3] == [0, 10, 20] and results[4] == 40
    assert isinstance(results[3], ValueError) and str(results[3]) == "no 3"
    # Alone, a call is answered too (the loop's next turn), in a batch of its own.
    assert await batch(7) == 70
    assert calls[-1] == [7]


async def test_a_failing_call_fails_every_caller_of_its_batch_and_the_next_batch_works() -> None:
    fail = True

    async def many(keys: list[str]) -> list[str | BaseException]:
        if fail:
            raise ConnectionError("down")
        return [key.upper() for key in keys]

    batch: Batch[str, str] = Batch(many)
    results = await asyncio.gather(batch("a"), batch("b"), return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)
    fail = False
    assert await asyncio.gather(batch("a"), batch("b")) == ["A", "B"]


async def test_a_caller_that_leaves_does_not_disturb_the_others() -> None:
    release = asyncio.Event()

    async def many(keys: list[int]) -> list[int | BaseException]:
        await release.wait()
        return keys

    batch: Batch[int, int] = Batch(many)
    leaving = asyncio.ensure_future(batch(1))
    staying = asyncio.ensure_future(batch(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    release.set()
    assert await staying == 2
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_full_batch_goes_at_once() -> None:
    sizes: list[int] = []

    async def many(keys: list[int]) -> list[int | BaseException]:
        sizes.append(len(keys))
        return list(keys)

    batch: Batch[int, int] = Batch(many, max_size=4)
    assert await asyncio.gather(*(batch(key) for key in range(10))) == list(range(10))
    assert sizes == [4, 4, 2]


async def test_calls_arriving_while_batches_are_in_flight_wait_and_go_together() -> None:
    """Under load, a call waits for a batch in flight to be answered, then goes with every
    call that arrived meanwhile: fewer, fuller round trips. Alone, it goes at once."""
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def many(keys: list[int]) -> list[int | BaseException]:
        batches.append(list(keys))
        await release.wait()
        return list(keys)

    batch: Batch[int, int] = Batch(many, in_flight=1)
    first = asyncio.ensure_future(batch(0))
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(batch(key)) for key in (1, 2)]
    await asyncio.sleep(0.01)
    later.append(asyncio.ensure_future(batch(3)))
    await asyncio.sleep(0.01)
    assert batches == [[0]]  # the others wait for its place
    release.set()
    assert await asyncio.gather(first, *later) == [0, 1, 2, 3]
    assert batches == [[0], [1, 2, 3]]
    assert await batch(4) == 4 and batches[-1] == [4]
