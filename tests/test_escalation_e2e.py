"""Issue 15, "who gets escalated" (both databases): checkpoints, faults, tasks and reviews all
escalate through bot.leads.escalation_targets — the group's 主管, else the team's ops lead
(/主管), else the ops role, else the admins — and never to the person who is late.

The harness's only ops-role holder is 张场控 (ou_ops), who is also a 场控: the demo's case of
a 场控 whose own overdue checkpoint escalated to himself.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot import leads
from bot.faults import oncall
from tests.test_faults_e2e import faults, seed
from tests.test_norms_e2e import ADD, advance_to, find
from tests.test_reviews_e2e import ended_stream
from tests.test_schedule_service import local, seed_team
from tests.test_tasks_e2e import dm_texts

HOUR = 3600


def add_lead(h) -> str:
    """周主管, the team's 运营主管 (no role of their own), in the team group."""
    h.users["lead"] = h.sim.add_user("周主管", open_id="ou_lead")["open_id"]
    h.sim.state.chats[h.chats["team"]].members.append(h.users["lead"])
    return h.users["lead"]


def at(open_id: str) -> str:
    return f"<at id={open_id}></at>"


# -- the one function ------------------------------------------------------------------------------
async def test_escalation_targets_order_and_never_the_late_person(harness):
    h, u = harness, harness.users
    async with h.db.session() as s:
        admins = (u["admin"],)
        # no setting: the ops role, but not when its holder is the one who is late
        assert await leads.escalation_targets(s, chat_id="oc_team", admins=admins) == [u["ops"]]
        assert await leads.escalation_targets(s, chat_id="oc_team", late=[u["ops"]], admins=admins) == [u["admin"]]
        # everyone late: nobody rather than the late person
        assert await leads.escalation_targets(s, late=[u["ops"], u["admin"]], admins=admins) == []
        # the team's ops lead comes before the ops role
        await leads.set_team_ops_leads(s, ["ou_lead"], by="test", now=h.clock.now())
        assert await leads.escalation_targets(s, chat_id="oc_team", admins=admins) == ["ou_lead"]
        assert await leads.escalation_targets(s, late=["ou_lead"], admins=admins) == [u["ops"]]
        # the group's own 主管 (/任务 设置 主管) comes first
        from bot.tasks import service as tasks

        await tasks.save_settings(s, "oc_team", by="test", now=h.clock.now(), ops_lead=u["streamer"])
        assert await leads.escalation_targets(s, chat_id="oc_team", admins=admins) == [u["streamer"]]
        assert await leads.escalation_targets(s, chat_id="oc_other", admins=admins) == ["ou_lead"]
        assert await leads.escalation_targets(s, chat_id="oc_team", late=[u["streamer"]], admins=admins) == ["ou_lead"]


async def test_lead_command_sets_shows_and_clears(harness):
    h = harness
    add_lead(h)
    await h.say("member", "/主管 设置 @周主管")
    assert "需要" in h.text_of(h.last_reply()) or "运营" in h.text_of(h.last_reply())  # ops only
    async with h.db.session() as s:
        assert await leads.team_ops_leads(s) == []
    await h.say("ops", "/主管 设置 @周主管")
    text = h.text_of(h.last_reply())
    assert "已保存" in text and "团队的运营主管：@周主管" in text
    async with h.db.session() as s:
        assert await leads.team_ops_leads(s) == ["ou_lead"]
    await h.say("member", "/主管")
    assert "@周主管" in h.text_of(h.last_reply())
    await h.say("ops", "/主管 清除")
    assert "还没有设运营主管" in h.text_of(h.last_reply()) and "@张场控" in h.text_of(h.last_reply())


# -- checkpoints -----------------------------------------------------------------------------------
@pytest.mark.parametrize("with_lead", [False, True])
async def test_a_field_controls_own_overdue_checkpoint_does_not_escalate_to_him(harness, with_lead):
    h, u = harness, harness.users
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    if with_lead:
        add_lead(h)
        await h.say("ops", "/主管 设置 @周主管")
    await h.say("ops", ADD)  # 场控 @张场控 owns the T-1d venue checkpoint (Thu 19:00)
    await advance_to(h, local(2026, 11, 26, 20, 0))  # card 19:00, reminder 19:30, escalation 20:00
    (esc,) = find(h, "已升级：场地布置")
    text = h.text_of(esc)
    lead = "ou_lead" if with_lead else u["admin"]
    assert f"已通知运营主管 {at(lead)}，负责人 {at(u['ops'])}" in text
    assert f"运营主管 {at(u['ops'])}" not in text


# -- faults ----------------------------------------------------------------------------------------
async def test_an_on_call_ops_holder_is_not_his_own_fault_lead(harness):
    h, u = harness, harness.users
    await seed(h, rotation=False)
    now = h.clock.now()
    async with h.db.session() as s:
        await leads.set_team_ops_leads(s, [], by="test", now=now)  # no team lead: the ops role
        await oncall.set_rotation(s, category=oncall.ALL, members=[u["ops"]],  # 张场控 is on call
                                  starts_on=oncall.monday((now + timedelta(hours=8)).date()), by="test", now=now)
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    (f,) = await faults(h)
    assert f.oncall_ids == [u["ops"]] and f.lead_ids == [u["admin"]]
    await h.advance(10 * 60)  # the breach: the leads are told, not the on-call as his own lead
    (f,) = await faults(h)
    assert f.ack_breached and u["ops"] not in f.lead_ids


async def test_the_team_ops_lead_gets_the_fault_escalation(harness):
    h = harness
    await seed(h)
    add_lead(h)
    await h.say("ops", "/主管 设置 @周主管")
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    (f,) = await faults(h)
    assert f.lead_ids == ["ou_lead"]
    await h.say("streamer", "/故障 升级 #1")
    (f,) = await faults(h)
    assert f.escalated and "ou_lead" in f.lead_ids


# -- tasks -----------------------------------------------------------------------------------------
async def test_an_overdue_task_of_the_groups_lead_goes_to_the_team_lead(harness):
    h = harness
    add_lead(h)
    await h.say("ops", "/主管 设置 @周主管")
    await h.say("ops", "/任务 设置 主管 @张场控")  # the group's 主管 ...
    await h.say("admin", "/任务 新建 更新场控话术 @张场控 周五前")  # ... owns the task himself
    await h.advance(76 * HOUR + 60)  # Sunday 18:01: two days overdue
    assert any("升级提醒" in t and "更新场控话术" in t for t in dm_texts(h, "lead"))
    assert not any("升级提醒" in t for t in dm_texts(h, "ops"))
    assert "已升级给运营主管" in h.text_of(h.last_reply())


async def test_an_unknown_task_setting_is_named_back(harness):
    """It raised TypeError (the i18n value was called key, like UserError's own argument)."""
    h = harness
    await h.say("ops", "/任务 设置 颜色 红")
    assert "没有「颜色」这个设置" in h.text_of(h.last_reply())


# -- reviews ---------------------------------------------------------------------------------------
async def test_a_missing_review_escalates_past_the_stream_owner(harness):
    h = harness
    await ended_stream(h, announce=True)  # made by 张场控, the only ops-role holder
    await h.advance(47 * HOUR + 60)  # 48 hours after the end
    assert "升级提醒" in h.text_of(h.last_reply())
    assert any("升级提醒" in t for t in dm_texts(h, "admin"))
    assert not any("升级提醒" in t for t in dm_texts(h, "ops"))  # reminded at 24 h, not escalated to
