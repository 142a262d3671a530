"""ByteBudget: how many bytes of messages the receiver parses and checks at once."""

from __future__ import annotations

import asyncio

from mailhook.budget import ByteBudget


async def _holder(
    budget: ByteBudget, size: int, log: list[str], name: str, go: asyncio.Event
) -> None:
    async with budget.share(size):
        log.append(name)
        await go.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_shares_that_fit_are_held_together_and_the_rest_wait_in_order() -> None:
    async def scenario() -> None:
        budget = ByteBudget(10)
        log: list[str] = []
        go = {name: asyncio.Event() for name in "abcd"}
        tasks = [
            asyncio.create_task(_holder(budget, size, log, name, go[name]))
            for name, size in (("a", 4), ("b", 5), ("c", 8), ("d", 1))
        ]
        await _settle()
        # d would fit, but c came first: nobody passes a waiting big message.
        assert log == ["a", "b"] and budget.held == 9
        go["a"].set()
        await _settle()
        assert log == ["a", "b"] and budget.held == 5
        go["b"].set()
        await _settle()
        assert log == ["a", "b", "c", "d"] and budget.held == 9
        go["c"].set()
        go["d"].set()
        await asyncio.gather(*tasks)
        assert budget.held == 0

    asyncio.run(scenario())


def test_a_share_bigger_than_the_budget_is_held_alone() -> None:
    async def scenario() -> None:
        budget = ByteBudget(10)
        log: list[str] = []
        go = asyncio.Event()
        big = asyncio.create_task(_holder(budget, 50, log, "big", go))
        small = asyncio.create_task(_holder(budget, 1, log, "small", go))
        await _settle()
        assert log == ["big"] and budget.held == 50
        go.set()
        await asyncio.gather(big, small)
        assert log == ["big", "small"] and budget.held == 0

    asyncio.run(scenario())


def test_a_waiter_that_goes_away_lets_the_next_one_in() -> None:
    async def scenario() -> None:
        budget = ByteBudget(10)
        log: list[str] = []
        go = {name: asyncio.Event() for name in "abc"}
        a = asyncio.create_task(_holder(budget, 6, log, "a", go["a"]))
        b = asyncio.create_task(_holder(budget, 9, log, "b", go["b"]))
        c = asyncio.create_task(_holder(budget, 3, log, "c", go["c"]))
        await _settle()
        assert log == ["a"]
        b.cancel()  # its session went away while it waited
        await _settle()
        assert log == ["a", "c"] and budget.held == 9
        go["a"].set()
        go["c"].set()
        await asyncio.gather(a, c)
        assert b.cancelled() and budget.held == 0

    asyncio.run(scenario())


def test_a_share_granted_to_a_session_already_gone_is_given_back() -> None:
    async def scenario() -> None:
        budget = ByteBudget(10)
        log: list[str] = []
        go = asyncio.Event()
        b: asyncio.Task[None] | None = None

        async def first() -> None:
            async with budget.share(10):
                await go.wait()
            # The release granted b its share; b goes away before it runs.
            assert b is not None
            b.cancel()

        a = asyncio.create_task(first())
        b = asyncio.create_task(_holder(budget, 10, log, "b", go))
        await _settle()
        go.set()
        await asyncio.gather(a, b, return_exceptions=True)
        assert b.cancelled() and log == [] and budget.held == 0

    asyncio.run(scenario())
