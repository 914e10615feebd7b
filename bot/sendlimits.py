"""Feishu's frequency limits, kept in this process so the sender stays under them.

The rules, from the open-platform docs:
* 频控策略 (server-docs/api-call-guide/frequency-control): limits apply "每个 API、每个应用、
  每个租户"; "对于不同时间周期内的限频策略（如 1000次/分&50次/秒），请求速率达到任意上限（QPS 或
  QPM）都会触发限流". The APIs the bot calls list "接口频率限制 1000 次/分钟、50 次/秒"
  (e.g. 更新应用发送的消息卡片, 发送短信加急, 延时更新消息卡片). So each API path kind has
  its own two sliding windows, 50 a second and 1,000 a minute; a full window or a 429 on one
  API never holds up another.
* 发送消息 (im-v1/message/create), 使用限制: to one user 5 QPS; to one group 5 QPS shared by
  the bots in it. A lane (one chat, one user) sends one row at a time and at most 5 a second.
* 更新应用发送的消息卡片 (im-v1/message/patch): "单条消息更新频控为 5 QPS"; pins the same
  (feishu-platform notes). One window of 5 a second per message id.
* Over a limit: HTTP 429, code 99991400, ``x-ogw-ratelimit-reset`` seconds → that API pauses
  (``pause_api``); 230020 / 232019 → that lane pauses (``pause_lane``).

A request counts from when it starts until its answer, and then from the answer's time
(Feishu counted it somewhere in between), so whichever span Feishu looks at holds no more
requests than the limit.

Pages first: BULK rows (briefings, cadence nudges, digests, bulk sends) may fill only
``BULK_SHARE`` of each API window; the rest stays free for fault pages and answers to people,
so a 1,000-group fan-out can never take a page's slot. Which row goes next among those that
may go is the sender's choice (by priority); this module only says when a request may start.
"""
from __future__ import annotations

import collections
import math
import time
from dataclasses import dataclass, field
from typing import Callable

PER_SECOND = 50  # per API, app and tenant
PER_MINUTE = 1000  # per API, app and tenant
PER_LANE = 5  # per chat (shared by its bots) or per user, a second
PER_MESSAGE = 5  # PATCH / pin of one message, a second
BULK_SHARE = 0.9  # the share of each API window bulk rows may use; the rest is kept for pages
BULK_PER_SECOND = int(PER_SECOND * BULK_SHARE)  # 45
BULK_PER_MINUTE = int(PER_MINUTE * BULK_SHARE)  # 900


@dataclass(frozen=True)
class Keys:
    """What one request counts against: its API(s), its lane, the message it changes."""

    apis: tuple[str, ...]
    lane: str
    message: str = ""


class Window:
    """A sliding window: answer times within ``span`` plus requests still in flight."""

    __slots__ = ("span", "stamps", "inflight")

    def __init__(self, span: float) -> None:
        self.span = span
        self.stamps: collections.deque[float] = collections.deque()
        self.inflight = 0

    def count(self, now: float) -> int:
        while self.stamps and now - self.stamps[0] >= self.span:
            self.stamps.popleft()
        return len(self.stamps) + self.inflight

    def wait(self, now: float, limit: int) -> float:
        """Seconds until one more request fits under ``limit`` (inf: only when one in flight ends)."""
        over = self.count(now) - limit + 1
        if over <= 0:
            return 0.0
        if over > len(self.stamps):
            return math.inf
        return self.stamps[over - 1] + self.span - now + 0.001

    def idle(self, now: float) -> bool:
        return self.count(now) == 0


@dataclass
class Api:
    second: Window = field(default_factory=lambda: Window(1.0))
    minute: Window = field(default_factory=lambda: Window(60.0))
    paused_until: float = 0.0


class Limits:
    def __init__(self, *, per_second: int = PER_SECOND, per_minute: int = PER_MINUTE, per_lane: int = PER_LANE,
                 per_message: int = PER_MESSAGE, bulk_share: float = BULK_SHARE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second, self.per_minute = per_second, per_minute
        self.bulk_second, self.bulk_minute = int(per_second * bulk_share), int(per_minute * bulk_share)
        self.per_lane, self.per_message = per_lane, per_message
        self.clock = clock
        self.apis: dict[str, Api] = collections.defaultdict(Api)
        self.lanes: dict[str, Window] = {}
        self.messages: dict[str, Window] = {}
        self.lane_paused: dict[str, float] = {}

    def _small(self, table: dict[str, Window], key: str) -> Window:
        window = table.get(key)
        if window is None:
            window = table[key] = Window(1.0)
        return window

    def wait(self, keys: Keys, now: float, *, bulk: bool = False) -> float:
        """Seconds until a request with these keys may start (0: now). ``bulk`` requests
        also leave the share kept for pages free."""
        second = self.bulk_second if bulk else self.per_second
        minute = self.bulk_minute if bulk else self.per_minute
        wait = max(0.0, self.lane_paused.get(keys.lane, 0.0) - now)
        for name in keys.apis:
            api = self.apis[name]
            wait = max(wait, api.paused_until - now, api.second.wait(now, second), api.minute.wait(now, minute))
        if keys.lane:
            wait = max(wait, self._small(self.lanes, keys.lane).wait(now, self.per_lane))
        if keys.message:
            wait = max(wait, self._small(self.messages, keys.message).wait(now, self.per_message))
        return wait

    def take(self, keys: Keys) -> None:
        for window in self._windows(keys):
            window.inflight += 1

    def done(self, keys: Keys) -> None:
        now = self.clock()
        for window in self._windows(keys):
            window.inflight = max(0, window.inflight - 1)
            window.stamps.append(now)
        if len(self.lanes) + len(self.messages) > 5000:
            self._forget(now)

    def pause_api(self, api: str, seconds: float) -> None:
        self.apis[api].paused_until = max(self.apis[api].paused_until, self.clock() + seconds)

    def pause_lane(self, lane: str, seconds: float) -> None:
        self.lane_paused[lane] = max(self.lane_paused.get(lane, 0.0), self.clock() + seconds)

    def bulk_room(self, api: str, now: float) -> int:
        """How many bulk requests to this API could start now without waiting."""
        a = self.apis[api]
        if a.paused_until > now:
            return 0
        return max(0, min(self.bulk_second - a.second.count(now), self.bulk_minute - a.minute.count(now)))

    def bulk_opens(self, api: str, now: float) -> float:
        """Seconds until a bulk request to this API may start (inf: when one in flight ends)."""
        a = self.apis[api]
        return max(a.paused_until - now, a.second.wait(now, self.bulk_second), a.minute.wait(now, self.bulk_minute))

    def _windows(self, keys: Keys) -> list[Window]:
        out: list[Window] = []
        for name in keys.apis:
            api = self.apis[name]
            out += (api.second, api.minute)
        if keys.lane:
            out.append(self._small(self.lanes, keys.lane))
        if keys.message:
            out.append(self._small(self.messages, keys.message))
        return out

    def _forget(self, now: float) -> None:
        for table in (self.lanes, self.messages):
            for key in [k for k, w in table.items() if w.idle(now)]:
                del table[key]
        for key in [k for k, until in self.lane_paused.items() if until <= now]:
            del self.lane_paused[key]
