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
    (tests); unfrozen it keeps ticking (the sandbox, whose users also fast-forward it)."""

    adjustable = True

    def __init__(self, start: datetime | None = None, *, frozen: bool = True) -> None:
        base = start or datetime.now(timezone.utc)
        if base.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._base = base.astimezone(timezone.utc)
        self._frozen = frozen
        self._mono0 = _monotonic()
        self._offset = timedelta(0)
        self._listeners: list[Listener] = []

    def now(self) -> datetime:
        running = timedelta(0) if self._frozen else timedelta(seconds=_monotonic() - self._mono0)
        return self._base + self._offset + running

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    async def advance(self, seconds: float) -> datetime:
        """Move forward and tell listeners (the timer engine re-plans its next wake-up)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += timedelta(seconds=seconds)
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
