"""The task service and its pure helpers, against a real database (both kinds)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.errors import UserError
from bot.timers.models import Timer
from bot.tasks import service
from bot.tasks.cards import pct
from bot.tasks.models import HIGH, LOW, NORMAL, TaskLog
from bot.tasks.parse import priority_of, task_ref

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)  # Thu 14:00 local
FRI = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)  # Fri 18:00 local


def test_month_bounds():
    start, end, label = service.month_bounds("本月", NOW, TZ)
    assert label == "2026-11"
    assert start == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    assert service.month_bounds("上月", NOW, TZ)[2] == "2026-10"
    assert service.month_bounds("2026-12", NOW, TZ)[2] == "2026-12"
    assert service.month_bounds("2027年1月", NOW, TZ)[2] == "2027-01"
    jan = datetime(2027, 1, 5, 6, 0, tzinfo=timezone.utc)
    assert service.month_bounds("上个月", jan, TZ)[2] == "2026-12"
    with pytest.raises(UserError):
        service.month_bounds("13月", NOW, TZ)
    with pytest.raises(UserError):
        service.month_bounds("明年", NOW, TZ)


def test_handover_floor_is_three_working_days_at_six_pm():
    # Thu → Fri, Mon, Tue: Tuesday 2026-12-01 18:00 local.
    assert service.handover_due(NOW, TZ) == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    # Across the National Day holiday (Oct 1–7 2026 off; Sat Oct 10 is a make-up working day).
    sep30 = datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc)
    assert service.handover_due(sep30, TZ).astimezone(TZ).date().isoformat() == "2026-10-10"


def test_priority_and_refs():
    assert priority_of("写脚本 优先级高") == (HIGH, "写脚本")
    assert priority_of("写脚本 P3")[0] == LOW
    assert priority_of("【紧急】换灯")[0] == HIGH
    assert priority_of("写脚本")[0] == NORMAL
    assert [task_ref(w) for w in ("12", "#12", "＃7", "T3", "任务#5", "abc", "")] == [12, 12, 7, 3, 5, None, None]
    assert pct(None) == "-" and pct(0.5) == "50%"


async def _timers(session, task_id: int) -> dict[str, str]:
    rows = (await session.execute(select(Timer).where(Timer.ref == f"task:{task_id}"))).scalars()
    return {r.key.split(":", 2)[2]: r.state for r in rows}


async def test_create_is_idempotent_and_plans_reminders(database):
    async with database.session() as s:
        task, created = await service.create_task(s, chat_id="oc", title="  培训  话术 ", owners=["ou_a", "ou_a"],
                                                  due=FRI, by="ou_x", now=NOW, idem_key="k1")
        again, created2 = await service.create_task(s, chat_id="oc", title="other", owners=["ou_b"], due=FRI,
                                                    by="ou_x", now=NOW, idem_key="k1")
        assert created and not created2 and again.id == task.id and task.title == "培训 话术"
        assert (await service.owners_of(s, [task.id]))[task.id] == ["ou_a"]
        assert await _timers(s, task.id) == {"d1": "active", "h2": "active", "due": "active",
                                             "overdue:1": "active"}
        # Due in 90 minutes: only the deadline and the overdue check are ahead.
        soon, _ = await service.create_task(s, chat_id="oc", title="soon", owners=["ou_a"],
                                            due=NOW + timedelta(minutes=90), by="ou_x", now=NOW)
        assert set(await _timers(s, soon.id)) == {"due", "overdue:1"}


async def test_refusals(database):
    async with database.session() as s:
        with pytest.raises(UserError) as exc:
            await service.create_task(s, chat_id="oc", title="x", owners=[], due=FRI, by="ou_x", now=NOW)
        assert exc.value.key == "tasks.need_owner"
        with pytest.raises(UserError) as exc:
            await service.create_task(s, chat_id="oc", title="x", owners=["ou_a"], due=NOW, by="ou_x", now=NOW)
        assert exc.value.key == "tasks.deadline_past"
        task, _ = await service.create_task(s, chat_id="oc", title="x", owners=["ou_a"], due=FRI, by="ou_x", now=NOW)
        with pytest.raises(UserError) as exc:
            await service.extend(s, task, FRI + timedelta(days=1), reason=" ", by="ou_a", now=NOW)
        assert exc.value.key == "tasks.need_reason"
        with pytest.raises(UserError):
            await service.handover(s, "ou_a", "ou_a", by="ou_x", now=NOW, tz=TZ)


async def test_complete_stops_reminders_and_reopen_replans(database):
    async with database.session() as s:
        task, _ = await service.create_task(s, chat_id="oc", title="x", owners=["ou_a"], due=FRI, by="ou_x", now=NOW)
        assert await service.complete(s, task, by="ou_a", now=NOW)
        assert not await service.complete(s, task, by="ou_a", now=NOW)
        assert set((await _timers(s, task.id)).values()) == {"cancelled"}
        later = FRI + timedelta(days=2, hours=1)  # Sunday 19:00: two days overdue
        assert await service.reopen(s, task, by="ou_a", now=later)
        states = await _timers(s, task.id)
        assert states["overdue:3"] == "active" and states["d1"] == "cancelled"
        await service.extend(s, task, later + timedelta(days=1), reason="等样品", by="ou_a", now=later)
        kinds = [e.kind for e in (await s.execute(select(TaskLog).where(TaskLog.task_id == task.id)
                                                  .order_by(TaskLog.id))).scalars()]
        assert kinds == ["created", "done", "reopened", "extended"]


async def test_month_stats_counts_on_time_late_overdue(database):
    async with database.session() as s:
        a, _ = await service.create_task(s, chat_id="oc", title="a", owners=["ou_a"], due=FRI, by="x", now=NOW,
                                         source="review")
        b, _ = await service.create_task(s, chat_id="oc", title="b", owners=["ou_a", "ou_b"], due=FRI, by="x", now=NOW)
        c, _ = await service.create_task(s, chat_id="oc", title="c", owners=["ou_b"], due=FRI, by="x", now=NOW,
                                         source="review")
        d, _ = await service.create_task(s, chat_id="oc", title="d", owners=["ou_b"], due=FRI, by="x", now=NOW)
        await service.complete(s, a, by="ou_a", now=NOW)
        await service.complete(s, c, by="ou_b", now=FRI + timedelta(hours=3))
        await service.cancel(s, d, by="x", now=NOW)
        start, end, _ = service.month_bounds("本月", NOW, TZ)
        people, total = await service.month_stats(s, chat_id="oc", start=start, end=end, now=FRI + timedelta(days=1))
        assert (total.due, total.on_time, total.late, total.overdue) == (3, 1, 1, 1)
        assert total.review_due == 2 and total.review_rate == 0.5
        by = {p.open_id: p for p in people}
        assert (by["ou_a"].due, by["ou_a"].on_time, by["ou_a"].overdue, by["ou_a"].rate) == (2, 1, 1, 0.5)
        assert (by["ou_b"].due, by["ou_b"].late, by["ou_b"].review_rate) == (2, 1, 0.0)
