"""Sliding windows, counted in real monotonic time (as Feishu's gateway does), and the
per-API limiter built from them.

Feishu's frequency control ("频控策略", open.feishu.cn/document/ukTMukTMukTM/uUzN04SN3QjL1cDN,
api-call-guide/frequency-control): limits apply per API, per app, per tenant; the common tier is
"1000 次/分钟、50 次/秒" and "请求速率达到任意上限（QPS 或 QPM）都会触发限流". Over a limit the answer
is HTTP 429, code 99991400, with ``x-ogw-ratelimit-limit`` and ``x-ogw-ratelimit-reset``
(seconds to wait) headers. One API's window never affects another API's.
"""
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


class ApiLimiter:
    """Both windows of every API: a hit is accepted only when it fits the second AND the
    minute window of its own API (then it is counted in both)."""

    def __init__(self) -> None:
        self.second = SlidingWindow(1.0)
        self.minute = SlidingWindow(60.0)

    def check(self, api: str, per_second: int, per_minute: int) -> tuple[int, float] | None:
        """None if accepted (and counted); else (the limit that tripped, seconds to wait)."""
        for window, limit in ((self.second, per_second), (self.minute, per_minute)):
            wait = window.wait(api, limit)
            if wait is not None:
                return limit, wait
        self.second.record(api)
        self.minute.record(api)
        return None

    def clear(self) -> None:
        self.second.clear()
        self.minute.clear()
