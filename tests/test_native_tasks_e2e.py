"""Feishu Tasks kept in step, both ways, end to end (the real bot, the strict simulator's Tasks v2
routes and its task.task.updated_v1 event, both databases, the injected clock).

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai; "周五前" is Fri 18:00.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.sim.tasks import user_completes
from bot.tasks.models import DONE, TODO, Task

MINUTE = 60


async def task(h, task_id: int = 1) -> Task:
    async with h.db.session() as s:
        return await s.get(Task, task_id)


def feishu(h, guid: str) -> dict:
    return h.sim.state.tasks[guid]


def assignees(h, guid: str) -> list[str]:
    return [m["id"] for m in feishu(h, guid)["members"] if m["role"] == "assignee"]


async def mirrored(h, title: str = "完成主播话术培训", owner: str = "李主播") -> Task:
    await h.say("ops", "/任务 设置 飞书任务 开")
    await h.say("ops", f"/任务 新建 {title} @{owner} 周五前")
    rows = await h_tasks(h)
    row = rows[-1]
    assert row.feishu_guid and row.feishu_guid in h.sim.state.tasks
    return row


async def h_tasks(h) -> list[Task]:
    async with h.db.session() as s:
        return list((await s.execute(select(Task).order_by(Task.id))).scalars())


async def test_every_change_is_mirrored(harness):
    h = harness
    row = await mirrored(h)
    guid = row.feishu_guid
    assert assignees(h, guid) == [h.users["streamer"]]
    # deadline
    await h.say("streamer", "/任务 延期 1 下周一前 原因：样品还没到")
    t = await task(h)
    assert int(feishu(h, guid)["due"]["timestamp"]) == int(t.due_at.timestamp() * 1000)
    # owners: reassigned
    await h.say("ops", "/任务 转交 1 @陈助播")
    assert assignees(h, guid) == [h.users["member"]]
    # completed and reopened
    await h.say("member", "/任务 完成 1")
    assert feishu(h, guid)["completed_at"] != "0" and feishu(h, guid)["status"] == "done"
    await h.say("member", "/任务 重开 1")
    assert feishu(h, guid)["completed_at"] == "0"
    # hand-over moves the members (the leaver keeps nothing there)
    await h.say("ops", "/任务 交接 @陈助播 @赵技术")
    assert assignees(h, guid) == [h.users["tech"]]
    t = await task(h)
    assert int(feishu(h, guid)["due"]["timestamp"]) == int(t.due_at.timestamp() * 1000)
    # a cancelled task is closed in Feishu too (Feishu has no "cancelled")
    await h.say("ops", "/任务 取消 1 不做了")
    assert feishu(h, guid)["completed_at"] != "0"
    # only what changed was sent: one PATCH per change, members by add/remove
    patches = [r for r in h.sim.requests("/task/v2/tasks/") if r["method"] == "PATCH"]
    assert [sorted(p["json"]["update_fields"]) for p in patches] == [
        ["due"], ["completed_at"], ["completed_at"], ["due"], ["completed_at"]]
    assert len(h.sim.requests("/add_members")) == 2 and len(h.sim.requests("/remove_members")) == 2


async def test_changes_before_the_feishu_copy_exists_wait_for_it(harness):
    h = harness
    await h.say("ops", "/任务 设置 飞书任务 开")
    h.sim.faults.add("5xx", path_contains="/task/v2/tasks", times=1)  # the create fails once, is retried
    await h.say("ops", "/任务 新建 整理直播数据 @李主播 周五前")
    await h.say("streamer", "/任务 完成 1")
    (only,) = h.sim.tasks()
    assert only["completed_at"] != "0"
    assert (await task(h)).feishu_guid == only["guid"]


async def test_a_retried_create_after_a_lost_answer_makes_one_task(harness):
    h = harness
    await h.say("ops", "/任务 设置 飞书任务 开")
    h.sim.faults.add("lost_answer", path_contains="/task/v2/tasks", times=1)
    await h.say("ops", "/任务 新建 整理直播数据 @李主播 周五前")
    assert len(h.sim.tasks()) == 1 and (await task(h)).feishu_guid == h.sim.tasks()[0]["guid"]


async def test_completed_in_feishu_is_completed_here_through_the_event(harness):
    h = harness
    h.sim.scopes.add("task:task")  # task.task.updated_v1 needs it (任务信息变更, 权限要求)
    row = await mirrored(h)
    delivery = await user_completes(h.sim, row.feishu_guid, "李主播")
    assert delivery["status"] == 200
    await h.settle()
    t = await task(h)
    assert t.status == DONE
    assert "已在飞书任务里完成" in h.text_of(h.last_reply())
    # the bot did not send "completed" back (Feishu already said so)
    assert not [r for r in h.sim.requests("/task/v2/tasks/") if r["method"] == "PATCH"]
    # unticked in Feishu: reopened here
    await user_completes(h.sim, row.feishu_guid, "李主播", done=False)
    await h.settle()
    assert (await task(h)).status == TODO
    assert "取消完成" in h.text_of(h.last_reply())


async def test_completed_in_feishu_without_the_event_is_noticed_by_the_periodic_check(harness):
    h = harness
    row = await mirrored(h)  # the tenant did not grant task:task: the event is not pushed
    delivery = await user_completes(h.sim, row.feishu_guid, "李主播")
    assert delivery["status"] is None and delivery["not_delivered"]
    assert (await task(h)).status == TODO
    await h.advance(10 * MINUTE + 1)
    assert (await task(h)).status == DONE
    assert "已在飞书任务里完成" in h.text_of(h.last_reply())


async def test_completed_here_is_completed_there_and_the_echo_changes_nothing(harness):
    h = harness
    h.sim.scopes.add("task:task")
    row = await mirrored(h)
    await h.say("streamer", "/任务 完成 1")
    await h.settle()
    assert feishu(h, row.feishu_guid)["completed_at"] != "0"
    await h.advance(10 * MINUTE + 1)  # the echo event and the periodic check agree: nothing to do
    t = await task(h)
    assert t.status == DONE and t.completed_by == h.users["streamer"]
    assert "已在飞书任务里完成" not in "\n".join(h.text_of(m) for m in h.bot_messages())
