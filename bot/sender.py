"""The outbox sender: takes due rows, keeps Feishu's limits, sends, records the outcome.

Ordering: only the oldest unfinished row of each lane (a chat, a user) is sent, so one
chat's messages arrive in order while different chats go in parallel.
Limits: ≤ 5/s per lane and ≤ 50/s for the app (in-process windows), a pause for the whole
app on 429/99991400 until x-ogw-ratelimit-reset, a lane pause on 230020.
Failures: timeouts, 5xx and non-JSON answers are retried with exponential backoff; permanent
errors (230002, 230099, ...) are not retried: the row is marked failed, logged, counted, and
shown by /状态. A crash between sending and marking is harmless: the retry carries the same
Feishu uuid, which Feishu (and the simulator) dedupe for an hour.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from datetime import timedelta
from typing import Any, Awaitable, Callable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from bot.clock import wall_now
from bot import logs
from bot.logs import Repeated
from bot.feishu.platform import ApiResult, Platform
from bot.outbox import feishu_uuid
from bot.sender_native import NATIVE_REQUESTS, NATIVE_RESULTS  # issue 17: calendar, tasks, Bitable
from bot.store.db import Database
from bot.store.models import OutboxMessage

log = logging.getLogger("bot.sender")

MAX_TRANSIENT_ATTEMPTS = 8
LEASE = timedelta(seconds=60)
BUSY_RECHECK = 0.2  # seconds between looks for new rows while every waiting chat has a send in flight
Callback = Callable[[Any, OutboxMessage, dict], Awaitable[None]]
CALLBACKS: dict[str, Callback] = {}


def on_sent(name: str) -> Callable[[Callback], Callback]:
    """Register what to do once a row is sent (e.g. post a card into a group just created)."""

    def wrap(fn: Callback) -> Callback:
        CALLBACKS[name] = fn
        return fn

    return wrap


FAILURE_CALLBACKS: dict[str, Callback] = {}


def on_failed(name: str) -> Callable[[Callback], Callback]:
    """Register what to do when a row with this callback fails for good (result: {"session"}),
    e.g. fall back to the reporting group when a fault group cannot be created."""

    def wrap(fn: Callback) -> Callback:
        FAILURE_CALLBACKS[name] = fn
        return fn

    return wrap


class RateWindow:
    """Sliding one-second windows: per lane and for the whole app. Feishu counts a request
    when it arrives; here it counts while in flight and then from when its answer came back
    (always at or after the arrival), so any one-second span Feishu looks at holds no more
    requests than the limit, whatever the network jitter."""

    SPAN = 1.0

    def done(self, lane: str) -> None:
        """Count a request from when its answer came back: Feishu counted it on arrival,
        somewhere between start and answer, so counting requests in flight plus those answered
        within the window never undercounts (per lane and for the app). Only the head of a
        lane is in flight, so the lane's last entry is that request."""
        now = time.monotonic()
        window = self.lanes.get(lane)
        if window:
            window[-1] = now
        self.in_flight = max(0, self.in_flight - 1)
        self.app.append(now)

    def __init__(self, per_lane: int = 5, per_app: int = 50) -> None:
        self.per_lane, self.per_app = per_lane, per_app
        self.lanes: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.app: collections.deque[float] = collections.deque()  # answers within the window
        self.in_flight = 0  # app requests started and not answered yet
        self.paused_until = 0.0
        self.lane_paused: dict[str, float] = {}

    def delay(self, lane: str, now: float) -> float:
        wait = max(0.0, self.paused_until - now, self.lane_paused.get(lane, 0.0) - now)
        for window, limit, extra in ((self.lanes[lane], self.per_lane, 0), (self.app, self.per_app, self.in_flight)):
            while window and now - window[0] >= self.SPAN:
                window.popleft()
            if len(window) + extra >= limit:
                # the oldest entry leaves the window then; with only requests in flight, look again soon
                wait = max(wait, self.SPAN - (now - window[0]) + 0.001 if window else 0.005)
        return wait

    def take(self, lane: str, now: float) -> None:
        self.lanes[lane].append(now)
        self.in_flight += 1
        if len(self.lanes) > 5000:  # forget idle lanes
            for key in [k for k, w in self.lanes.items() if not w or now - w[-1] > 2]:
                del self.lanes[key]

    async def acquire(self, lane: str) -> None:
        while True:
            now = time.monotonic()
            wait = self.delay(lane, now)
            if wait <= 0:
                self.take(lane, now)
                return
            await asyncio.sleep(wait)


def request_for(row: OutboxMessage, target: str) -> tuple[str, str, dict, dict, Any]:
    """(method, path, paths, query, body) of one outbox row."""
    if row.op in NATIVE_REQUESTS:
        return NATIVE_REQUESTS[row.op](row, target)
    p = row.payload
    uuid = feishu_uuid(row.key)
    def content(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    if row.op == "send":
        return ("POST", "/open-apis/im/v1/messages", {}, {"receive_id_type": p.get("receive_id_type", "chat_id")},
                {"receive_id": target, "msg_type": p["msg_type"], "content": content(p["content"]), "uuid": uuid})
    if row.op == "reply":
        return ("POST", "/open-apis/im/v1/messages/:message_id/reply", {"message_id": target}, {},
                {"msg_type": p["msg_type"], "content": content(p["content"]),
                 "reply_in_thread": bool(p.get("reply_in_thread")), "uuid": uuid})
    if row.op == "patch":
        return ("PATCH", "/open-apis/im/v1/messages/:message_id", {"message_id": target}, {},
                {"content": content(p["content"])})
    if row.op == "urgent":
        kind = p.get("kind", "app")
        return ("PATCH", f"/open-apis/im/v1/messages/:message_id/urgent_{kind}", {"message_id": target},
                {"user_id_type": "open_id"}, {"user_id_list": p["user_ids"]})
    if row.op == "create_chat":
        body = {k: v for k, v in p.items() if k in ("name", "description", "owner_id", "user_id_list",
                                                    "bot_id_list", "chat_mode", "chat_type")}
        return ("POST", "/open-apis/im/v1/chats", {}, {"user_id_type": "open_id", "set_bot_manager": "true",
                                                      "uuid": uuid}, body)
    if row.op == "add_members":
        return ("POST", "/open-apis/im/v1/chats/:chat_id/members", {"chat_id": target},
                {"member_id_type": "open_id", "succeed_type": "1"}, {"id_list": p["ids"]})
    if row.op == "update_chat":
        return ("PUT", "/open-apis/im/v1/chats/:chat_id", {"chat_id": target}, {"user_id_type": "open_id"},
                dict(p))
    if row.op == "pin":
        return ("POST", "/open-apis/im/v1/pins", {}, {}, {"message_id": target})
    if row.op == "create_task":
        return ("POST", "/open-apis/task/v2/tasks", {}, {"user_id_type": "open_id"},
                {**p, "client_token": uuid})
    raise ValueError(f"cannot send op {row.op}")


def result_of(row: OutboxMessage, api: ApiResult) -> dict:
    data = api.data or {}
    if row.op in NATIVE_RESULTS:
        return NATIVE_RESULTS[row.op](data)
    if row.op in ("send", "reply", "send_file"):
        return {"message_id": data.get("message_id", ""), "chat_id": data.get("chat_id", "")}
    if row.op == "create_chat":
        return {"chat_id": data.get("chat_id", ""), "name": data.get("name", "")}
    if row.op == "create_task":
        task = data.get("task") or {}
        return {"guid": task.get("guid", ""), "url": task.get("url", ""), "id": task.get("guid", "")}
    if row.op == "add_members":
        return {"invalid": data.get("invalid_id_list") or [], "missing": data.get("not_existed_id_list") or []}
    return {}


class Sender:
    def __init__(self, db: Database, platform: Platform, worker_id: str, *,
                 window: RateWindow | None = None, batch: int = 50,
                 callback_env: Any = None, metrics: Any = None,
                 on_failure: Callable[[OutboxMessage, Any], Awaitable[None]] | None = None,
                 pulse: asyncio.Event | None = None) -> None:
        self.db, self.platform, self.worker_id = db, platform, worker_id
        self.window = window or RateWindow()
        self.batch = batch
        self.callback_env = callback_env
        self.metrics = metrics
        self.on_failure = on_failure
        self._wake = asyncio.Event()
        self.pulse = pulse or asyncio.Event()
        self.running = False
        self.stopping = False
        self._orphans: set[int] = set()  # rows this process claimed but could not finish

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the rows in hand, then leave the loop."""
        self.stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Keep up to ``batch`` sends in flight: more rows are claimed as soon as some finish,
        so the pipeline never stalls on the slowest send of a batch (which would cap a
        fan-out well below Feishu's 50 messages/s)."""
        self.running = True
        inflight: dict[asyncio.Task, OutboxMessage] = {}
        trouble = Repeated(log, "outbox claim failed")
        try:
            while not self.stopping:
                rows: list[OutboxMessage] = []
                room = self.batch - len(inflight)
                if room > 0:
                    self._wake.clear()  # before looking: a row written meanwhile wakes the idle wait
                    try:
                        await self._release_orphans()
                        rows = await self.claim(room)
                        trouble.ok()
                    except Exception:  # noqa: BLE001 - database hiccup: wait and try again
                        trouble.failed()
                        await asyncio.sleep(1.0)
                for row in rows:
                    context = logs.context_for(**logs.from_key(row.key))  # its lines carry the cause
                    inflight[asyncio.create_task(self._send(row), context=context)] = row
                if rows and len(inflight) < self.batch:
                    await asyncio.sleep(0)  # let them start, then look for more
                    continue
                if inflight and rows:  # full: wait for a send to finish
                    done, _ = await asyncio.wait(list(inflight), timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                    self._finished(done, inflight)
                    continue
                if inflight:
                    await self._wait_busy(inflight)
                    continue
                await self._idle()
        finally:
            if inflight:  # finish the rows in hand
                done, _ = await asyncio.wait(list(inflight))
                self._finished(done, inflight)
            self.running = False

    async def _wait_busy(self, inflight: dict[asyncio.Task, OutboxMessage]) -> None:
        """Nothing was claimable though sends are in flight (every waiting row is behind one of
        them in its chat, or not due yet). Look again when a send finishes (its chat is free),
        or when new rows arrive but at most every BUSY_RECHECK seconds: each look reads the
        waiting rows, and while Feishu is slow every handled event wakes the sender."""
        looked = time.monotonic()
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            done, _ = await asyncio.wait([*inflight, wake], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
        done.discard(wake)
        if not done:
            await asyncio.sleep(max(0.0, looked + BUSY_RECHECK - time.monotonic()))
        self._finished(done, inflight)

    def _finished(self, done: set[asyncio.Task], inflight: dict[asyncio.Task, OutboxMessage]) -> None:
        for task in done:
            row = inflight.pop(task)
            exc = task.exception()
            if exc is not None:  # e.g. the database went away mid-send
                log.error("send interrupted", extra={"key": row.key}, exc_info=exc)
                self._orphans.add(row.id)
        if done:
            self.pulse.set()

    async def _release_orphans(self) -> None:
        """Rows whose send or outcome could not be recorded (the database was away) are not
        in flight any more: make them due again now instead of after their lease. A resend
        carries the same Feishu uuid, so one that did reach Feishu is not posted twice."""
        if not self._orphans:
            return
        async with self.db.session() as session:
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id.in_(sorted(self._orphans)), OutboxMessage.status == "sending",
                OutboxMessage.claimed_by == self.worker_id).values(status="pending", claimed_until=None))
        self._orphans.clear()

    async def _idle(self) -> None:
        timeout = 1.0
        try:
            async with self.db.session() as session:
                nxt = (await session.execute(select(func.min(OutboxMessage.next_attempt_at))
                                             .where(OutboxMessage.status == "pending"))).scalar()
            if nxt is not None:
                timeout = min(1.0, max(0.01, (nxt - wall_now()).total_seconds()))
        except Exception:  # noqa: BLE001
            pass
        if self.stopping:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def claim(self, limit: int | None = None) -> list[OutboxMessage]:
        now = wall_now()
        earlier = aliased(OutboxMessage)
        due = or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                  and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now))
        # first live row of its lane; a LIMIT 1 subquery, not NOT EXISTS (see inbox.claim)
        first_in_lane = (select(earlier.id).where(earlier.lane == OutboxMessage.lane, earlier.id < OutboxMessage.id,
                                                  earlier.status.in_(("pending", "sending")))
                         .limit(1).scalar_subquery().is_(None))
        async with self.db.session() as session:
            # one status per query, so each follows the backlog on its index rather than
            # walking the primary key through the history of sent rows (an OR does that)
            ids: list[int] = []
            for wanted in (and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
                           and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)):
                room = (limit or self.batch) - len(ids)
                if room <= 0:
                    break
                ids += list((await session.execute(
                    select(OutboxMessage.id).where(wanted, first_in_lane).order_by(OutboxMessage.id)
                    .limit(room).with_for_update(skip_locked=True))).scalars())
            if not ids:
                return []
            rows = (await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids), due)
                .values(status="sending", claimed_by=self.worker_id, claimed_until=now + LEASE)
                .returning(OutboxMessage))).scalars().all()
        return sorted(rows, key=lambda r: r.id)

    async def _resolve(self, row: OutboxMessage) -> tuple[str | None, str]:
        """The real target id; "@key" points at another row's result."""
        if not row.target.startswith("@"):
            return row.target, ""
        async with self.db.session() as session:
            dep = (await session.execute(select(OutboxMessage).where(
                OutboxMessage.key == row.target[1:]))).scalar_one_or_none()
        if dep is None or dep.status == "failed":
            return None, "dependency failed or missing"
        if dep.status != "sent":
            return None, "wait"
        res = dep.result or {}
        return res.get("message_id") or res.get("chat_id") or res.get("id") or "", ""

    async def _send(self, row: OutboxMessage) -> None:
        target, problem = await self._resolve(row)
        if target is None:
            if problem == "wait":
                await self._retry(row, 1.0, "waiting for the row it refers to", None, count=False)
            else:
                await self._fail(row, None, problem)
            return
        await self.window.acquire(row.lane)
        started = time.monotonic()
        try:
            if row.op == "send_file":
                api = await self._send_file(row, target)
            else:
                method, path, paths, query, body = request_for(row, target)
                api = await self.platform.call(method, path, query=query, body=body, paths=paths)
        finally:
            self.window.done(row.lane)
        if self.metrics:
            self.metrics.send_latency.observe(time.monotonic() - started)
        if api.ok:
            await self._done(row, result_of(row, api))
        elif api.kind == "rate":
            self.window.paused_until = time.monotonic() + api.retry_after
            await self._retry(row, api.retry_after, f"rate limited ({api.code})", api.code, count=False)
        elif api.kind == "chat_rate":
            self.window.lane_paused[row.lane] = time.monotonic() + api.retry_after
            await self._retry(row, api.retry_after, "chat rate limited (230020)", api.code, count=False)
        elif api.kind in ("transient", "token") and row.attempts + 1 < MAX_TRANSIENT_ATTEMPTS:
            backoff = min(60.0, 0.5 * 2 ** row.attempts)
            await self._retry(row, backoff, api.msg or f"HTTP {api.status}", api.code)
        else:
            await self._fail(row, api.code, api.msg or f"HTTP {api.status}")
        if self.metrics and not api.ok:
            self.metrics.send_errors.labels(code=str(api.code if api.code is not None else api.status)).inc()

    async def _send_file(self, row: OutboxMessage, target: str) -> ApiResult:
        """Upload, then post the file message (a retry uploads again: harmless)."""
        import base64
        import io

        p = row.payload
        stream = io.BytesIO(base64.b64decode(p["data_b64"]))
        stream.name = p["file_name"]
        upload = await self.platform.call("POST", "/open-apis/im/v1/files", body={
            "file_type": p.get("file_type", "stream"), "file_name": p["file_name"], "file": stream})
        if not upload.ok:
            return upload
        file_key = upload.data.get("file_key", "")
        return await self.platform.call(
            "POST", "/open-apis/im/v1/messages", query={"receive_id_type": p.get("receive_id_type", "chat_id")},
            body={"receive_id": target, "msg_type": "file", "content": json.dumps({"file_key": file_key}),
                  "uuid": feishu_uuid(row.key)})

    async def _done(self, row: OutboxMessage, result: dict) -> None:
        async with self.db.session() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status="sent", sent_at=wall_now(), result=result, attempts=row.attempts + 1,
                claimed_until=None))
            if row.callback:
                fn = CALLBACKS.get(row.callback)
                if fn is None:
                    log.error("no outbox callback named %s", row.callback)
                else:
                    await fn(self.callback_env, row, {**result, "session": session})
        log.info("sent", extra={"op": row.op})
        if self.metrics:
            self.metrics.sent.labels(op=row.op).inc()
        if row.callback:
            self.wake()

    async def _retry(self, row: OutboxMessage, delay: float, why: str, code: int | None,
                     *, count: bool = True) -> None:
        async with self.db.session() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status="pending", next_attempt_at=wall_now() + timedelta(seconds=delay),
                attempts=row.attempts + (1 if count else 0), last_error=why[:500], error_code=code,
                claimed_until=None))
        log.info("send retry", extra={"key": row.key, "why": why, "delay": delay})

    async def _fail(self, row: OutboxMessage, code: int | None, why: str) -> None:
        row.error_code, row.last_error = code, why
        log.error("send failed for good", extra={"key": row.key, "op": row.op, "code": code, "why": why})
        if self.metrics:
            self.metrics.send_failures.labels(code=str(code if code is not None else "none")).inc()
        async with self.db.session() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status="failed", attempts=row.attempts + 1, last_error=why[:500], error_code=code,
                claimed_until=None, sent_at=wall_now()))
            if self.on_failure is not None:
                # In the same transaction: whatever the hook queues (a fallback, a notice)
                # exists the moment the row is seen as failed. A failing hook is rolled back
                # alone; the failure itself stays recorded.
                savepoint = await session.begin_nested()
                try:
                    await self.on_failure(row, session)
                    await savepoint.commit()
                except Exception:  # noqa: BLE001
                    await savepoint.rollback()
                    log.exception("failure hook failed")
        self.wake()
