"""Prompts on one event loop taking turns: together they hold it up for at most
a budget per turn, however many there are and however fast their replies come."""

import asyncio
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx2


class FairStream(httpx2.AsyncByteStream):
    """A reply's bytes, a line at a time, waiting for the event loop's next turn
    whenever the prompts have used up this one (LoopTurn). When a fast server's
    events arrive together, reading them awaits nothing: fifty prompts would
    each parse all of theirs in one turn while every other task on the loop (a
    ticker, a UI) waits. The lines are only places to cut: joined again they are
    the same bytes, compressed or not."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        turn, chunks = loop_turn(), self.stream.__aiter__()
        try:
            async for chunk in chunks:
                for line in chunk.splitlines(keepends=True):
                    await turn.wait_if_over()
                    yield line  # the reader parses it before this goes on
            await turn.wait_if_over()  # finishing a reply takes its time too
        finally:  # a reader that stops early closes the connection's stream too
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()

    async def aclose(self) -> None:
        await self.stream.aclose()


class LoopTurn:
    """How long the current turn of one event loop has run, for the prompts on it.
    asyncio runs every task that is ready in one turn, and a task waiting for the
    clock (a ticker, a UI redraw) only after them all: so the prompts of a loop
    share one BUDGET per turn, and past it each waits for the next turn. A lone
    prompt on an idle loop never waits."""

    BUDGET = 0.001  # seconds of a turn: fifty prompts' share, not each one's

    # It never keeps its loop (TURNS holds it weakly, so that a closed loop goes):
    # it runs on that loop, and asks asyncio for it.
    def __init__(self) -> None:
        self.began: float | None = None  # when this turn began, while prompts run
        self.asked = False  # a prompt asked in this turn

    async def wait_if_over(self) -> None:
        while self.over():
            await asyncio.sleep(0)

    def over(self) -> bool:
        self.asked, now = True, time.perf_counter()
        if self.began is None:  # the first prompt to ask since the loop was idle
            self.began = now
            asyncio.get_running_loop().call_soon(self.next_turn)
        return now - self.began > self.BUDGET

    def next_turn(self) -> None:
        """Runs first in each turn while prompts ask, to note when it began:
        callbacks added in one turn run before the next turn's I/O and timers."""
        if self.asked:
            self.asked, self.began = False, time.perf_counter()
            asyncio.get_running_loop().call_soon(self.next_turn)
        else:  # no prompt asked in the last turn: the loop may sleep
            self.began = None


TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopTurn] = (
    weakref.WeakKeyDictionary()
)


def loop_turn() -> LoopTurn:
    loop = asyncio.get_running_loop()
    turn = TURNS.get(loop)
    if turn is None:
        turn = TURNS[loop] = LoopTurn()
    return turn


async def take_turn() -> None:
    """Wait, if need be, for a turn of the loop with time left (LoopTurn): the
    prompts of a batch (asyncio.gather of 50) all start in the same turn."""
    await loop_turn().wait_if_over()
