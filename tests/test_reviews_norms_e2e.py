"""Reviews and the stream norms, end to end (both databases): missed checkpoints and overtime
product explanations are pre-filled 不足; the hourly sweep is planned at start-up."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.norms.models import Checkpoint, Explanation
from bot import timers
from bot.reviews import service as reviews
from bot.reviews.models import ReviewItem
from tests.test_reviews_e2e import START, ended_stream


async def test_sweep_is_planned_at_start_up(harness):
    async with harness.db.session() as s:
        sweep = await timers.get(s, reviews.SWEEP_KEY)
    assert sweep is not None and sweep.state == "active"


async def test_missed_checkpoints_and_overtime_explanations_prefill_shortcomings(harness):
    stream_id = await ended_stream(harness)
    begin = START - timedelta(hours=4)
    async with harness.db.session() as s:
        for kind, hours, extra in (
                ("script", 48, dict(status="done", done_at=begin - timedelta(hours=47))),  # on time: not listed
                ("venue", 24, dict(status="done", done_at=begin - timedelta(hours=20), reminders=1)),  # late
                ("equipment", 2, dict(status="open", reminders=1, escalated_at=begin - timedelta(hours=1))),
                ("onsite", 1, dict(status="open")),  # never confirmed
                ("review", -24, dict(status="open"))):  # the review's own deadline: not a shortcoming
            s.add(Checkpoint(stream_id=stream_id, kind=kind, due_at=begin - timedelta(hours=hours), **extra))
        s.add(Explanation(stream_id=stream_id, chat_id=harness.chats["team"], kind="hero", product="玫瑰精华",
                          started_at=begin, ended_at=begin + timedelta(minutes=9), seconds=540, lower_min=3,
                          upper_min=5, overtime=True))
        s.add(Explanation(stream_id=stream_id, chat_id=harness.chats["team"], kind="traffic", product="口红",
                          started_at=begin, ended_at=begin + timedelta(minutes=2), seconds=120, lower_min=1,
                          upper_min=3, overtime=False))
    await harness.say("ops", "/复盘")
    text = harness.text_of(harness.last_reply())
    assert "检查点未按时确认：场地布置与彩排（T-1天）（超时确认）" in text
    assert "检查点未按时确认：设备联调（T-2小时）（已升级）" in text
    assert "检查点未按时确认：运营到岗（T-1小时）（未确认）" in text
    assert "讲解超时：玫瑰精华（爆款）用时 9分00秒，上限 5 分钟" in text
    assert "脚本初审" not in text and "口红" not in text and "复盘会" not in text
    async with harness.db.session() as s:
        items = list((await s.execute(select(ReviewItem).order_by(ReviewItem.id))).scalars())
    assert [(i.kind, i.source) for i in items] == [("shortcoming", "checkpoint")] * 4
