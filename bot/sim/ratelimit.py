"""Sliding one-second windows, counted in real monotonic time (as Feishu's gateway does)."""
from __future__ import annotations

from collections import deque
import math
import time


class SlidingWindow:
    """At most ``limit`` accepted hits per key within any ``window`` seconds.
    Rejected attempts are not counted."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def wait(self, key: str, limit: int) -> float | None:
        """None when one more hit fits now, else the seconds until a slot frees up."""
        now = time.monotonic()
        hits = self._hits.get(key)
        if not hits:
            return None
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= limit:
            return max(0.0, self.window - (now - hits[0]))
        return None

    def record(self, key: str) -> None:
        self._hits.setdefault(key, deque()).append(time.monotonic())

    def clear(self) -> None:
        self._hits.clear()


def reset_header(wait: float) -> str:
    """x-ogw-ratelimit-reset is whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
