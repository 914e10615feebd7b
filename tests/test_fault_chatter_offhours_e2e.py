"""End to end (both databases): replies in a fault group land on the ticket's timeline
without an @mention and without an answer; the off-hours escalation path (Saturday night)
vs the office-hours one (Thursday afternoon)."""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.faults.models import FaultEvent
from bot.faults.policy import Policy
from tests.test_faults_e2e import cards_in, fault_group, seed, texts

TZ = ZoneInfo("Asia/Shanghai")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
async def team(harness):
    await seed(harness)
    return harness


async def events(h, kind: str | None = None) -> list[FaultEvent]:
    async with h.db.session() as s:
        q = select(FaultEvent).order_by(FaultEvent.id)
        if kind:
            q = q.where(FaultEvent.kind == kind)
        return list((await s.execute(q)).scalars())


async def test_fault_group_chatter_is_kept_on_the_timeline_silently(team):
    h = team
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    group = fault_group(h)["chat_id"]
    before = len(h.bot_messages(group))
    await h.say("tech", "推流码过期了，正在换备用线路", chat=group)
    await h.sim.send_image(group, h.users["tech"], PNG)
    await h.settle()
    assert len(h.bot_messages(group)) == before  # chatter is never answered
    kept = await events(h, "evidence")
    assert [e.text for e in kept] == ["推流码过期了，正在换备用线路", ""]
    assert kept[1].data["images"] == 1 and kept[0].by == h.users["tech"]

    await h.say("ops", "大家辛苦了")  # chatter elsewhere: nothing kept, nothing said
    assert len(await events(h, "evidence")) == 2
    await h.say("ops", "/故障 #1")
    details = h.text_of(h.last_reply())
    assert "时间线" in details and "赵技术 补充：推流码过期了，正在换备用线路" in details

    await h.press(cards_in(h, group)[0]["message_id"], "tech", {"a": "fault.resolve", "id": 1},
                  {"cause": "推流码过期", "fix": "换备用线路"})
    await h.say("tech", "复盘时再细看", chat=group)  # resolved: no longer kept
    assert len(await events(h, "evidence")) == 2


def test_policy_ladder_paths():
    pol = Policy()
    assert pol.ladder("P0", off_hours=False) == [("ack2", 5), ("breach", 10)]
    assert pol.ladder("P0", off_hours=True) == [("lead", 5), ("breach", 10)]
    sat_night = datetime(2026, 11, 28, 22, 0, tzinfo=TZ)
    thu_afternoon = datetime(2026, 11, 26, 14, 0, tzinfo=TZ)
    national_day = datetime(2026, 10, 2, 10, 0, tzinfo=TZ)  # a Friday, but a holiday
    assert pol.office_hours(thu_afternoon, TZ)
    assert not pol.office_hours(sat_night, TZ) and not pol.office_hours(national_day, TZ)
    assert not Policy(office_end=time(13, 0)).office_hours(thu_afternoon, TZ)


async def test_saturday_night_escalates_to_the_ops_lead_at_t5(harness):
    h = harness
    sat_night = datetime(2026, 11, 28, 22, 0, tzinfo=TZ).astimezone(timezone.utc)
    await h.advance((sat_night - h.clock.now()).total_seconds())
    await seed(h)
    u = h.users
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    group = fault_group(h)["chat_id"]
    gcard = cards_in(h, group)[0]
    assert [x["users"] for x in gcard["urgent"]] == [[u["tech"], u["tech2"]]]  # T+0: on-call and backup
    await h.advance(5 * 60)
    assert "非工作时间" in texts(h, group) and "已升级给运营主管" in texts(h, group)
    assert "5 分钟无人认领：再次提醒" not in texts(h, group)
    # the team's ops lead (王运营, bot.leads), not every ops-role holder
    assert set(h.sim.message(gcard["message_id"])["urgent"][-1]["users"]) >= {u["admin"], u["tech"]}
    assert [e.kind for e in await events(h) if e.kind in ("ack2", "offhours_lead")] == ["offhours_lead"]
    await h.advance(5 * 60)  # T+10: the breach still comes and is recorded
    assert "SLA 已违约" in texts(h, group)
    assert [e.kind for e in await events(h, "breach")] == ["breach"]


async def test_thursday_afternoon_keeps_the_office_hours_path(team):
    h, u = team, team.users
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    group = fault_group(h)["chat_id"]
    gcard = cards_in(h, group)[0]
    assert [x["users"] for x in gcard["urgent"]] == [[u["tech"]]]
    await h.advance(5 * 60)
    assert "非工作时间" not in texts(h, group)
    assert h.sim.message(gcard["message_id"])["urgent"][-1]["users"] == [u["tech"], u["tech2"]]
    assert [e.kind for e in await events(h) if e.kind in ("ack2", "offhours_lead")] == ["ack2"]
