"""Issue 7 "Done means", as a team would do it in the sandbox (both databases): a stream is
planned, its script (violations, evasions, false-positive traps) is uploaded with "#id" in
the file name, the T-2d script review refuses to be confirmed until the fixed script
passes, and afterwards the records are found by stream and exported as CSV.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai; the stream is Mon 11-30 19:00, so
its T-2d script card is due Sat 11-28 19:00.
"""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from bot.compliance import retention
from bot.compliance.models import ComplianceRecord
from bot.norms.models import DONE, OPEN
from bot.timers.models import Timer
from tests.test_check_e2e import header, records, reply_to
from tests.test_norms_e2e import advance_to, button_value, checkpoint, find
from tests.test_schedule_service import local

SCRIPT = "\n".join([
    "家人们晚上好，欢迎来到直播间！",
    "这款面霜是全网最好用的，三天祛痘。",      # 绝对化 + 功效
    "医 生 都 推 荐，国家级认证",              # spaces inserted
    "最🔥好用的面霜，绝对不会过敏",            # emoji inserted
    "ＮＯ．１的保湿效果",                      # full-width
    "想要优惠的加我薇信私聊",                  # variant of 微信
    "最近天气干燥，皮肤容易缺水。",            # trap: 最近
    "第一次用的朋友可以先买小样。",            # trap: 第一次
    "开封后最佳食用期为三个月。",              # trap: usage hint
])
FIXED = "\n".join([
    "家人们晚上好，欢迎来到直播间！",
    "这款面霜质地轻薄，适合日常使用。",
    "最近天气干燥，皮肤容易缺水。",
    "第一次用的朋友可以先买小样。",
    "开封后最佳食用期为三个月。",
    "有问题可以在直播间评论区留言。",
])


async def add_stream(h) -> None:
    await h.say("ops", "/直播间 添加 1号直播间")
    await h.say("ops", "/排期 添加 1号直播间 2026-11-30 19:00-23:00")
    assert "新增场次 #1" in h.text_of(h.last_reply())


async def purge_timers(h) -> list[Timer]:
    async with h.db.session() as s:
        return list((await s.execute(select(Timer).where(Timer.kind == retention.KIND))).scalars())


async def test_done_means_upload_fix_confirm_find(harness):
    h = harness
    team, ops = h.chats["team"], h.users["ops"]
    await add_stream(h)
    assert (await checkpoint(h, 1, "script")).status == OPEN
    await advance_to(h, local(2026, 11, 28, 19, 0))
    [card] = find(h, "检查点：脚本初审")
    done = button_value(card, "norms.done")

    # pressing 已完成 before any check: refused with a reason
    answer = await h.press(card["message_id"], "ops", done)
    assert "还没做合规检查" in answer["toast"]["content"]

    # the script, linked to stream 1 by its file name: a marked-up answer
    await h.sim.upload_file(team, ops, "#1 面霜专场脚本.txt", SCRIPT.encode())
    await h.settle()
    answer = h.last_reply()
    assert header(answer)[0] == "red"
    text = h.text_of(answer)
    for seen in ("全网最好用", "医 生", "最🔥好用", "ＮＯ．１", "薇信", "必改"):
        assert seen in text, seen
    [first] = await records(h)
    assert (first.stream_id, first.source, first.verdict) == (1, "file", "block")
    matched = " ".join(x["matched"] for x in first.hits)
    for trap in ("最近", "第一次", "最佳食用期"):
        assert trap not in matched, trap
    assert {x["line"] for x in first.hits} <= {2, 3, 4, 5, 6}  # nothing on the trap lines 7–9

    # the checkpoint cannot be confirmed while a 必改 hit remains
    refusal = (await h.press(card["message_id"], "ops", done))["toast"]["content"]
    assert "必改" in refusal and "R1" in refusal
    assert (await checkpoint(h, 1, "script")).status == OPEN

    # the fixed script passes, is linked to the same stream and to the first check
    await h.sim.upload_file(team, ops, "#1 面霜专场脚本-修改.txt", FIXED.encode())
    await h.settle()
    assert header(h.last_reply()) == ("green", "话术合规检查：通过")
    second = (await records(h))[-1]
    assert (second.stream_id, second.verdict, second.previous_id) == (1, "pass", first.id)

    # now the review is confirmable
    await h.press(card["message_id"], "ops", done)
    cp = await checkpoint(h, 1, "script")
    assert cp.status == DONE and cp.done_by == ops

    # the records of the stream, afterwards
    await h.say("member", "/检查 记录 #1")
    listing = h.text_of(h.last_reply())
    assert "场次 #1 的合规检查记录" in listing and "R1" in listing and "R2" in listing
    await h.say("member", "/检查 记录 #9")
    assert "没有场次 #9" in h.text_of(h.last_reply())

    # an export for an audit (ops only) is a CSV file
    await h.say("member", "/检查 导出")
    assert not [m for m in h.bot_messages() if m["msg_type"] == "file"]
    await h.say("ops", "/检查 导出")
    [file_msg] = [m for m in h.bot_messages() if m["msg_type"] == "file"]
    resource = h.sim.state.resources[file_msg["content"]["file_key"]]
    assert resource.name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(resource.data.decode("utf-8-sig"))))
    assert [(r["record"], r["stream_id"], r["verdict"]) for r in rows] == [("R1", "1", "block"), ("R2", "1", "pass")]


async def test_reply_with_stream_tag_links_a_file(harness):
    h = harness
    team, ops = h.chats["team"], h.users["ops"]
    await add_stream(h)
    upload = await h.sim.upload_file(team, ops, "面霜脚本.txt", SCRIPT.encode())
    await h.settle()
    assert (await records(h))[-1].stream_id is None  # no tag: not linked
    await reply_to(h, upload, "ops", "@LiveOps 检查 #1")
    last = (await records(h))[-1]
    assert (last.source, last.stream_id, last.verdict) == ("reply", 1, "block")
    await reply_to(h, upload, "ops", "@LiveOps 检查 #7")
    assert "没有场次 #7" in h.text_of(h.last_reply())
    # "/检查 #1" as a reply does the same; "/检查 复查 R2 …" keeps the stream
    await reply_to(h, upload, "member", "/检查 #1")
    assert (await records(h))[-1].stream_id == 1
    await h.say("ops", f"/检查 复查 R2 {FIXED}")  # R2: the reply "检查 #1"
    last = (await records(h))[-1]
    assert (last.previous_id, last.stream_id, last.verdict) == (2, 1, "pass")
    async with h.db.session() as s:
        linked = (await s.execute(select(func.count()).select_from(ComplianceRecord)
                                  .where(ComplianceRecord.stream_id == 1))).scalar()
    assert linked == 3  # R2, R3, R4 (R1 was not tagged)


async def test_daily_purge_timer_planned_once_and_fires(harness):
    h = harness
    assert await purge_timers(h) == []
    await h.say("member", "/检查 这款面霜全网最好用")
    await h.say("member", "/检查 今天给大家介绍一款保湿面霜")
    [timer] = await purge_timers(h)
    assert timer.key == retention.KEY and timer.state == "active" and timer.rule["kind"] == "daily"
    assert timer.next_due == local(2026, 11, 27, 3, 30)
    await advance_to(h, local(2026, 11, 27, 3, 31))
    [timer] = await purge_timers(h)
    assert timer.fire_count == 1 and timer.next_due == local(2026, 11, 28, 3, 30)
    assert len(await records(h)) == 2  # nothing expired yet (kept three years)
    await h.say("member", "/检查 第一次来直播间的朋友")
    assert len(await purge_timers(h)) == 1
