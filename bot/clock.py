"""The one place the bot reads the time.

Everything that needs "now" receives a Clock. Production uses SystemClock; tests and the
sandbox use ManualClock, which only moves when told to, so timers can be demonstrated and
tested without sleeping.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
import time
from typing import Awaitable, Callable, Protocol

Listener = Callable[[datetime], Awaitable[None] | None]
# When is the next thing due after ``now`` and no later than ``until`` (None: nothing)?
StopSource = Callable[[datetime, datetime], Awaitable[datetime | None]]
MAX_STEPS = 2000  # a stepping advance stops at most this many times, then jumps the rest


class Clock(Protocol):
    def now(self) -> datetime: ...

    def add_listener(self, fn: Listener) -> None: ...


class SystemClock:
    """Wall-clock time, always timezone-aware UTC."""

    adjustable = False

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)


class ManualClock:
    """A clock that starts at a given instant and runs along with real time, plus any
    offset added by advance(). With ``frozen=True`` it stands still between advances
    (tests); unfrozen it keeps ticking (the sandbox, whose users also fast-forward it).

    With ``stepwise=True`` (the sandbox) an advance is lived through rather than jumped: the
    clock stops at each time something falls due on the way (asked of the stop sources, the
    timer engine's next due time), tells the listeners there, and goes on, so a fast-forward
    fires every timer at its own time, on time, as a bot that was running would have.
    ``jumps`` keeps the (from, to) of the last advances, for the sandbox page."""

    adjustable = True

    def __init__(self, start: datetime | None = None, *, frozen: bool = True, stepwise: bool = False) -> None:
        base = start or datetime.now(timezone.utc)
        if base.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._base = base.astimezone(timezone.utc)
        self._frozen = frozen
        self._mono0 = _monotonic()
        self._offset = timedelta(0)
        self._listeners: list[Listener] = []
        self._stops: list[StopSource] = []
        self.stepwise = stepwise
        self.jumps: list[tuple[datetime, datetime]] = []

    def now(self) -> datetime:
        running = timedelta(0) if self._frozen else timedelta(seconds=_monotonic() - self._mono0)
        return self._base + self._offset + running

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def add_stop_source(self, fn: StopSource) -> None:
        self._stops.append(fn)

    async def advance(self, seconds: float) -> datetime:
        """Move forward and tell listeners (the timer engine fires what fell due and re-plans)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        start = self.now()
        target = start + timedelta(seconds=seconds)
        if self.stepwise and self._stops:
            for _ in range(MAX_STEPS):
                stop = await self._next_stop(target)
                if stop is None:
                    break
                self._move_to(stop)
                await self._tell()
        self._move_to(target)
        now = await self._tell()
        if seconds:  # ends once the listeners are done (the sandbox's messages of the last stop)
            self.jumps = [*self.jumps[-49:], (start, self.now())]
        return now

    async def _next_stop(self, target: datetime) -> datetime | None:
        now = self.now()
        found = [due for fn in self._stops if (due := await fn(now, target)) is not None and now < due <= target]
        return min(found, default=None)

    def _move_to(self, when: datetime) -> None:
        self._offset += max(timedelta(0), when - self.now())

    async def _tell(self) -> datetime:
        now = self.now()
        for fn in list(self._listeners):
            result = fn(now)
            if asyncio.iscoroutine(result):
                await result
        return now

    async def set(self, when: datetime) -> datetime:
        return await self.advance(max(0.0, (when - self.now()).total_seconds()))


def _monotonic() -> float:
    return time.monotonic()


def wall_now() -> datetime:
    """Real time, for leases, retries and rate limits: things that happen on the wire,
    which the injected clock (the bot's business time) must not speed up or freeze."""
    return datetime.now(timezone.utc)


def wall_seconds() -> float:
    """Real Unix time in seconds (the simulator stands for Feishu's own clock)."""
    return time.time()
