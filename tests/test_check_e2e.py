"""End to end: /检查 (script compliance) through the real bot, the simulator and both databases."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.cards import MAX_CARD_BYTES
from bot.compliance.models import ComplianceAudit, ComplianceExemption, ComplianceRecord, ComplianceTerm
from bot.compliance.service import purge_expired

DATA = Path(__file__).parent / "data"
BLOCK_TEXT = "这款面霜是全网最好用的，还能消炎"
WARN_TEXT = "最后一波福利，大家抓紧"
PASS_TEXT = "今天给大家介绍一款保湿面霜，质地清爽，适合夏天使用。"


def sample_docx() -> bytes:
    """How tests/data/script_sample.docx was made (python-docx): paragraphs and a table."""
    import docx

    document = docx.Document()
    document.add_heading("618 面霜专场脚本", level=1)
    document.add_paragraph("家人们晚上好，欢迎来到直播间！")
    document.add_paragraph("这款面霜是全网最好用的，敏感肌也能用。")
    document.add_paragraph("质地清爽，适合夏天使用。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "环节"
    table.cell(0, 1).text = "话术"
    table.cell(1, 0).text = "逼单"
    table.cell(1, 1).text = "想要优惠的加我微信私聊"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def script_docx() -> bytes:
    path = DATA / "script_sample.docx"
    if not path.exists():
        path.write_bytes(sample_docx())
    return path.read_bytes()


def header(msg: dict) -> tuple[str, str]:
    h = msg["content"]["header"]
    return h["template"], h["title"]["content"]


async def records(harness) -> list[ComplianceRecord]:
    async with harness.db.session() as s:
        return list((await s.execute(select(ComplianceRecord).order_by(ComplianceRecord.id))).scalars())


async def audits(harness) -> list[ComplianceAudit]:
    async with harness.db.session() as s:
        return list((await s.execute(select(ComplianceAudit).order_by(ComplianceAudit.id))).scalars())


async def reply_to(harness, parent: dict, user: str, text: str) -> dict:
    msg = await harness.sim.send_text(harness.chats["team"], harness.users[user], text,
                                      parent_id=parent["message_id"])
    await harness.settle()
    return msg


# --------------------------------------------------------------------------- checking text

async def test_text_check_verdict_cards(seam):
    await seam.say("member", f"/检查 {BLOCK_TEXT}")
    card = seam.last_reply()
    assert card["msg_type"] == "interactive"
    assert header(card) == ("red", "话术合规检查：必须修改")
    text = seam.text_of(card)
    assert "全网最好用" in text and "绝对化" in text and "必改" in text and "广告法" in text
    assert "消炎" in text and "医疗用语" in text
    assert "共发现 2 处：必改 2 处" in text
    assert "R1" in text and "保存至 2029-11-26" in text

    await seam.say("streamer", f"/检查 {WARN_TEXT}")
    card = seam.last_reply()
    assert header(card) == ("orange", "话术合规检查：建议修改")
    assert "最后一波" in seam.text_of(card) and "建议改" in seam.text_of(card)

    await seam.say("tech", f"/check {PASS_TEXT}")
    card = seam.last_reply()
    assert header(card) == ("green", "话术合规检查：通过")
    assert "不等于法律合规确认" in seam.text_of(card)

    rows = await records(seam)
    assert [(r.verdict, r.source, r.block_count, r.warn_count) for r in rows] == [
        ("block", "text", 2, 0), ("warn", "text", 0, 1), ("pass", "text", 0, 0)]
    first = rows[0]
    assert first.user_id == seam.users["member"] and first.chat_id == "oc_team"
    assert first.text == BLOCK_TEXT and {h["matched"] for h in first.hits} == {"全网最好用", "消炎"}
    assert first.retention_until - first.created_at >= timedelta(days=3 * 365)
    assert first.stream_id is None and first.team == "default"


async def test_only_a_revision_is_linked_as_a_recheck(harness):
    await harness.say("member", f"/检查 {BLOCK_TEXT}")
    first_card = harness.last_reply()
    await harness.advance(600)
    await harness.say("member", f"/检查 {PASS_TEXT}")  # the next check, about something else: not linked
    assert "的复查" not in harness.text_of(harness.last_reply())
    await harness.say("member", "/检查 这款面霜很好用，还能保湿")  # a revision of R1 (similar text)
    assert "这是对 **R1** 的复查" in harness.text_of(harness.last_reply())
    await harness.say("member", "/检查 复查 R1 这款面霜很好用")  # explicit link
    await reply_to(harness, first_card, "streamer", "/检查 质地清爽，适合夏天")  # a reply to R1's card
    assert "这是对 **R1** 的复查" in harness.text_of(harness.last_reply())
    await harness.advance(2 * 86400)
    await harness.say("member", f"/检查 {WARN_TEXT}")  # more than a day later: a new check
    await harness.say("member", f"/检查 {WARN_TEXT}")  # the same text again, R6 was not a pass: linked
    rows = await records(harness)
    assert [r.previous_id for r in rows] == [None, None, 1, 1, 1, None, 6]
    assert all(r.card_key for r in rows)
    await harness.say("member", "/检查 记录 R1")
    text = harness.text_of(harness.last_reply())
    assert "之后的复查：**R3**" in text


def test_revision_helpers():
    from bot.compliance.service import char_pairs, dice, file_stem

    assert file_stem("#1 面霜专场脚本-修改.txt") == file_stem("面霜专场脚本 v2.docx") == "面霜专场脚本"
    assert file_stem("618面霜脚本 终版 2026-11-20.docx") == "618面霜脚本"
    assert file_stem("口红脚本.docx") != file_stem("面霜脚本.docx")
    assert dice(char_pairs(BLOCK_TEXT), char_pairs(PASS_TEXT)) < 0.2
    assert dice(char_pairs(WARN_TEXT), char_pairs(WARN_TEXT + "！")) == 1.0


async def test_long_text_card_stays_under_the_limit(seam):
    lines = [f"第{i}段：全网最低价，加我微信私聊，三天祛斑，包治百病" for i in range(1, 120)]
    await seam.say("member", "/检查 " + "\n".join(lines))
    card = seam.last_reply()
    assert header(card)[0] == "red"
    assert len(json.dumps(card["content"], ensure_ascii=False).encode("utf-8")) < MAX_CARD_BYTES
    assert "处未显示" in seam.text_of(card)
    rows = await records(seam)
    assert rows[0].total_count > 100 and len(rows[0].hits) == rows[0].total_count


# --------------------------------------------------------------------------- replies and files

async def test_reply_checks_the_replied_message(harness):
    script = await harness.say("streamer", "今晚话术：这款精华三天祛斑，全网最低价，私信我领券")
    await reply_to(harness, script, "ops", "@LiveOps 检查")
    card = harness.last_reply()
    assert header(card) == ("red", "话术合规检查：必须修改")
    text = harness.text_of(card)
    assert "全网最低价" in text and "回复的消息" in text
    rows = await records(harness)
    assert rows[-1].source == "reply" and rows[-1].source_message_id == script["message_id"]
    assert rows[-1].user_id == harness.users["ops"] and rows[-1].text.startswith("今晚话术")

    post = await harness.sim.send_post(harness.chats["team"], harness.users["member"], "开场",
                                       ["家人们晚上好", "今天给大家介绍一款保湿面霜"])
    await harness.settle()
    await reply_to(harness, post, "member", "@LiveOps 帮我检查一下")
    assert header(harness.last_reply()) == ("green", "话术合规检查：通过")
    assert (await records(harness))[-1].text == "开场\n家人们晚上好\n今天给大家介绍一款保湿面霜"


async def test_upload_txt_and_docx_scripts(harness):
    team, ops = harness.chats["team"], harness.users["ops"]
    await harness.sim.upload_file(team, ops, "618脚本.txt", (DATA / "script_sample.txt").read_bytes())
    await harness.settle()
    card = harness.last_reply()
    assert header(card) == ("red", "话术合规检查：必须修改")
    text = harness.text_of(card)
    assert "第 4 行" in text and "全网最好用" in text and "加我微信" in text
    assert "618脚本.txt" in card["content"]["header"]["subtitle"]["content"]

    await harness.sim.upload_file(team, ops, "面霜脚本.docx", script_docx())
    await harness.settle()
    text = harness.text_of(harness.last_reply())
    assert "第 3 段" in text and "表格1 第2行第2列" in text and "加我微信" in text

    rows = await records(harness)
    assert [(r.source, r.file_name) for r in rows] == [("file", "618脚本.txt"), ("file", "面霜脚本.docx")]
    assert rows[1].line_labels and rows[1].line_labels[0] == "第 1 段"
    await harness.say("ops", f"/检查 记录 R{rows[1].id}")
    assert "表格1 第2行第2列" in harness.text_of(harness.last_reply())


async def test_unreadable_and_other_files(harness):
    team, ops = harness.chats["team"], harness.users["ops"]
    before = len(harness.bot_messages())
    await harness.sim.upload_file(team, ops, "销售数据.xlsx", b"PK\x03\x04 not really a workbook")
    await harness.settle()
    assert len(harness.bot_messages()) == before  # a data sheet is left to other features
    await harness.sim.upload_file(team, ops, "直播话术.docx", b"this is not a word file")
    await harness.settle()
    text = harness.text_of(harness.last_reply())
    assert "这个文件没法检查" in text and "无法打开 Word 文件" in text
    assert await records(harness) == []

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["环节", "话术"])
    wb.active.append(["开场", "全网最低价，错过再等一年"])
    buf = io.BytesIO()
    wb.save(buf)
    sheet = await harness.sim.upload_file(team, ops, "排期数据.xlsx", buf.getvalue())
    await harness.settle()
    assert await records(harness) == []  # not named like a script
    await reply_to(harness, sheet, "ops", "@LiveOps 检查")  # asked for explicitly: checked
    text = harness.text_of(harness.last_reply())
    assert "Sheet!B2" in text and "全网最低价" in text
    assert [(r.source, r.file_name) for r in await records(harness)] == [("reply", "排期数据.xlsx")]


# --------------------------------------------------------------------------- team rules

async def test_team_exemption_turns_a_block_into_a_pass(seam):
    await seam.say("member", "/检查 至尊礼盒限时优惠")
    assert header(seam.last_reply())[0] == "red"
    await seam.say("ops", "/检查 豁免 至尊 商品名")
    assert "已豁免「至尊」（商品名）" in seam.text_of(seam.last_reply())
    await seam.say("member", "/检查 至尊礼盒限时优惠")
    card = seam.last_reply()
    assert header(card) == ("green", "话术合规检查：通过")
    assert "已按团队豁免跳过 1 处" in seam.text_of(card)
    await seam.say("member", "/检查 豁免 列表")
    assert "至尊" in seam.text_of(seam.last_reply()) and "商品名" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/检查 豁免 删除 至尊")
    assert "已取消豁免「至尊」" in seam.text_of(seam.last_reply())
    await seam.say("member", "/检查 至尊礼盒限时优惠")
    assert header(seam.last_reply())[0] == "red"
    async with seam.db.session() as s:
        assert (await s.execute(select(ComplianceExemption))).scalars().all() == []
    assert [a.action for a in await audits(seam)] == ["exempt.add", "exempt.delete"]


async def test_team_term_adds_a_hit(seam):
    await seam.say("member", "/检查 今天秒杀价只要99")
    assert header(seam.last_reply())[0] == "green"
    await seam.say("ops", "/检查 词库 添加 秒杀价 诱导 建议改 原因 平台不让说")
    assert "已添加团队词「秒杀价」（诱导，建议改）" in seam.text_of(seam.last_reply())
    await seam.say("member", "/检查 今天秒杀价只要99")
    card = seam.last_reply()
    assert header(card)[0] == "orange"
    assert "秒杀价" in seam.text_of(card) and "团队规则" in seam.text_of(card)
    await seam.say("member", "/检查 词库 列表")
    assert "平台不让说" in seam.text_of(seam.last_reply())
    async with seam.db.session() as s:
        row = (await s.execute(select(ComplianceTerm))).scalars().one()
    assert (row.term, row.category, row.severity, row.reason, row.team) == (
        "秒杀价", "诱导", "warn", "平台不让说", "default")
    await seam.say("ops", "/检查 词库 添加 拍一发二 必改")
    await seam.say("member", "/检查 今天拍一发二")
    assert header(seam.last_reply())[0] == "red"
    await seam.say("ops", "/检查 词库 添加 秒 必改")
    assert "不能作为词条" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/检查 词库 添加 秒杀 乱类 必改")
    assert "没有「乱类」这个类别" in seam.text_of(seam.last_reply())


# --------------------------------------------------------------------------- records

async def test_records_listed_shown_and_exported(harness):
    await harness.say("member", f"/检查 {BLOCK_TEXT}")
    await harness.say("ops", "/检查 =HYPERLINK(\"x\") 全网最低价")
    await harness.say("member", "/检查 记录")
    text = harness.text_of(harness.last_reply())
    assert "**R1**" in text and "**R2**" in text and "陈助播" in text and "张场控" in text
    assert "必改 2 · 建议改 0" in text
    await harness.say("member", "/检查 记录 R1")
    card = harness.last_reply()
    assert header(card) == ("red", "合规记录 R1：必须修改")
    assert "全网最好用" in harness.text_of(card) and "2029-11-26" in harness.text_of(card)
    # from another chat: shown to members of the chat it was checked in (tech is in the team
    # group), hidden from anyone else (bot.access)
    await harness.say("tech", "/检查 记录 R1", chat="tech")
    assert "合规记录 R1" in harness.text_of(harness.last_reply("tech"))
    dm = harness.sim.p2p_chat(harness.users["outsider"])["chat_id"]
    await harness.say("outsider", "/检查 记录 R1", chat=dm)
    assert "只能帮你" in harness.text_of(harness.last_reply(dm))  # an outsider: nothing but help and faults

    await harness.say("ops", "/检查 导出 全部")
    msgs = harness.bot_messages()
    assert "已导出团队全部的 2 条合规检查记录" in harness.text_of(msgs[-2])
    file_msg = msgs[-1]
    assert file_msg["msg_type"] == "file"
    data = harness.sim.state.resources[file_msg["content"]["file_key"]].data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["record"] for r in rows] == ["R1", "R2"]
    assert rows[0]["user_name"] == "陈助播" and rows[0]["verdict"] == "block" and rows[0]["text"] == BLOCK_TEXT
    assert rows[0]["chat_id"] == "oc_team" and rows[0]["created_at"].startswith("2026-11-26T14:00")
    assert json.loads(rows[0]["hits"])[0]["category"] == "绝对化"
    assert rows[1]["text"].startswith("'=HYPERLINK")  # a formula is never run by a spreadsheet
    export = [a for a in await audits(harness) if a.action == "export"]
    assert len(export) == 1
    assert (export[0].user_id, export[0].chat_id, export[0].detail["count"], export[0].detail["scope"]) == (
        harness.users["ops"], "oc_team", 2, "all")

    await harness.say("admin", "/检查 导出")  # this month (admins may too)
    assert "本月的 2 条" in harness.text_of(harness.bot_messages()[-2])


async def test_override_is_recorded(harness):
    await harness.say("member", f"/检查 {BLOCK_TEXT}")
    await harness.say("ops", "/检查 放行 R1 原因 已法务确认")
    assert "已放行 R1（原结论：必须修改），原因：已法务确认" in harness.text_of(harness.last_reply())
    rows = await records(harness)
    assert (rows[0].status, rows[0].overridden_by, rows[0].override_reason, rows[0].verdict) == (
        "overridden", harness.users["ops"], "已法务确认", "block")
    [row] = await audits(harness)
    assert (row.action, row.record_id, row.user_id, row.detail["reason"]) == (
        "override", 1, harness.users["ops"], "已法务确认")
    await harness.say("ops", "/检查 放行 R1 原因 再来一次")
    assert "已经在" in harness.text_of(harness.last_reply())
    await harness.say("member", "/检查 记录")
    assert "【已放行】" in harness.text_of(harness.last_reply())
    await harness.say("member", "/检查 记录 R1")
    assert "已由 张场控" in harness.text_of(harness.last_reply())
    await harness.say("member", f"/检查 {PASS_TEXT}")
    await harness.say("ops", "/检查 放行 R2 原因 没必要")
    assert "本来就是「通过」" in harness.text_of(harness.last_reply())


async def test_member_may_not_change_rules_override_or_export(seam):
    await seam.say("member", f"/检查 {BLOCK_TEXT}")
    for args in ("豁免 至尊 商品名", "豁免 删除 至尊", "词库 添加 秒杀价 诱导 建议改", "放行 R1 原因 我说行",
                 "导出 全部"):
        await seam.say("member", f"/检查 {args}")
        assert "需要运营权限" in seam.text_of(seam.last_reply()), args
    await seam.say("member", "/检查 豁免 列表")
    assert "还没有豁免词" in seam.text_of(seam.last_reply())
    assert [r.status for r in await records(seam)] == ["checked"]
    assert await audits(seam) == []


async def test_bad_input(seam):
    await seam.say("member", "/检查")
    text = seam.text_of(seam.last_reply())
    assert "请在命令后写上要检查的话术" in text and "用法" in text and "例如" in text
    await seam.say("member", "/检查 记录 R99")
    assert "找不到记录 R99" in seam.text_of(seam.last_reply())
    await seam.say("member", "/检查 记录 abc")
    assert "请写上记录编号" in seam.text_of(seam.last_reply())
    await seam.say("member", f"/检查 {BLOCK_TEXT}")
    await seam.say("ops", "/检查 放行 R1")
    assert "放行需要写明原因" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/检查 导出 明年")
    assert "本月、上月 或 全部" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/检查 豁免 至尊 乱写")
    assert "没有「乱写」这种豁免类型" in seam.text_of(seam.last_reply())
    await seam.say("member", "/检查 复查 R7 好用")
    assert "找不到记录 R7" in seam.text_of(seam.last_reply())
    assert len(await records(seam)) == 1


async def test_purge_expired_records(seam):
    await seam.say("member", f"/检查 {BLOCK_TEXT}")
    await seam.say("ops", "/检查 放行 R1 原因 已法务确认")
    [record] = await records(seam)
    async with seam.db.session() as s:
        assert await purge_expired(s, record.retention_until - timedelta(days=1)) == 0
    async with seam.db.session() as s:
        assert await purge_expired(s, record.retention_until + timedelta(seconds=1)) == 1
    assert await records(seam) == []
    assert [(a.action, a.detail) for a in await audits(seam)] == [("purge", {"records": 1})]


async def test_english_chat(seam):
    await seam.say("admin", "/lang English")
    await seam.say("member", f"/check {BLOCK_TEXT}")
    card = seam.last_reply()
    assert header(card) == ("red", "Script compliance check: Must change")
    text = seam.text_of(card)
    assert "Absolute claim" in text and "Must change" in text and "Kept as R1 until 2029-11-26" in text
    await seam.say("member", "/check records")
    assert "Recent compliance checks" in seam.text_of(seam.last_reply())
    await seam.say("member", "/check exempt 至尊 product")
    assert "needs the ops role" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/check exempt 至尊 product")
    assert "Exempted \"至尊\" (商品名)" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/check override R1 reason legal approved")
    assert "reason: legal approved" in seam.text_of(seam.last_reply())


# --------------------------------------------------------------------------- pure helpers

def test_helpers():
    from datetime import datetime, timezone

    from bot.commands.check import is_script_file
    from bot.compliance.service import parse_ref, retention_until

    assert [parse_ref(w) for w in ("R12", "r3", "#7", "12", "Rx", "", "R")] == [12, 3, 7, 12, None, None, None]
    leap = datetime(2028, 2, 29, 12, tzinfo=timezone.utc)
    assert retention_until(leap, 3) == datetime(2031, 2, 28, 12, tzinfo=timezone.utc)
    assert all(is_script_file(n) for n in ("a.txt", "b.MD", "c.docx", "直播话术.xlsx", "Script-618.xlsx"))
    assert not any(is_script_file(n) for n in ("销售数据.xlsx", "排期.csv", "photo.png", "脚本.csv", ""))
