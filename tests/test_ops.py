"""Each Feishu write op is declared once (bot/feishu/ops.py), and the four places that used to
drift agree with it: the scopes table, the simulator's routes, the typed enqueue helpers
(bot.outbox.Out) and every op name the code queues or tests for."""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import outbox
from bot.feishu import ops, scopes
from bot.i18n import t
from bot.sendcalls import Job, keys_for, request_for
from bot.sim.server import FeishuSimulator
from bot.store.models import OutboxMessage

ROOT = Path(__file__).resolve().parent.parent


def _call(call: str) -> tuple[str, str]:
    method, path = call.split(" ", 1)
    return method, path


def test_outbox_ops_are_the_declared_ops():
    assert outbox.OPS == tuple(op.name for op in ops.DECLARED)
    assert len(set(outbox.OPS)) == len(outbox.OPS)
    assert "upload_image" not in outbox.OPS  # it had no request builder: nothing could send it


def test_every_call_of_every_op_is_in_the_scopes_table():
    for op in ops.DECLARED:
        for call in op.calls:
            assert scopes.needs_for(*_call(call)) is not None, f"{op.name}: add {call} to bot/feishu/scopes.py"
        assert op.scopes(), f"{op.name} asks for no scope"


def test_every_call_of_every_op_has_a_simulator_route():
    routes = {(method, re.sub(r"\{(\w+)\}", r":\1", path)) for method, path, _h, _a in FeishuSimulator().api.route_table()}
    for op in ops.DECLARED:
        for call in op.calls:
            assert _call(call) in routes, f"{op.name}: the simulator has no route for {call} (bot/sim/)"


def test_every_op_has_a_typed_helper_and_a_digest_label():
    helpers = {name for name, fn in inspect.getmembers(outbox.Out, inspect.iscoroutinefunction)
               if not name.startswith("_")}
    assert helpers == set(outbox.OPS)
    for op in outbox.OPS:
        for locale in ("zh_CN", "en_US"):
            assert t(locale, f"notice.op.{op}") != f"notice.op.{op}", (op, locale)


def _op_names_in(tree: ast.AST) -> set[str]:
    """String constants the code gives as an op: ``op="x"``, ``op == "x"``, ``x.op in ("x", …)``,
    ``self._put("x", …)`` (bot.outbox.Out)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_put"
                and node.args and isinstance(node.args[0], ast.Constant)):
            found.add(node.args[0].value)
        if isinstance(node, ast.keyword) and node.arg == "op" and isinstance(node.value, ast.Constant):
            found.add(node.value.value)
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, (ast.Name, ast.Attribute)) and (getattr(s, "id", None) == "op"
                                                                  or getattr(s, "attr", None) == "op") for s in sides):
                for s in sides:
                    if isinstance(s, ast.Constant) and isinstance(s.value, str):
                        found.add(s.value)
                    if isinstance(s, (ast.Tuple, ast.List, ast.Set)):
                        found |= {e.value for e in s.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return found


def test_every_op_name_used_anywhere_can_be_enqueued():
    used: dict[str, str] = {}
    for folder in ("bot", "tests", "scripts"):
        for file in (ROOT / folder).rglob("*.py"):
            rel = file.relative_to(ROOT).as_posix()
            if rel.startswith("bot/sim/"):  # the simulator's ops are Feishu's, not the outbox's
                continue
            for name in _op_names_in(ast.parse(file.read_text("utf-8"))):
                used.setdefault(name, rel)
    assert {"send", "reply", "urgent", "create_event"} <= set(used)  # the scan works
    unknown = {name: rel for name, rel in used.items() if name not in outbox.OPS}
    assert unknown == {}, "op names no op declares (bot/feishu/ops.py)"


CARD = {"schema": "2.0", "body": {"elements": [{"tag": "markdown", "content": "hi 13800138000"}]}}
TASK = {"summary": "s", "members": [{"id": "ou_a", "type": "user", "role": "assignee"}]}


async def _queue_one_of_each(out: outbox.Out) -> None:
    await out.send("k:send", "oc_a", "hi 13800138000")
    await out.send("k:dm", "ou_a", card=CARD, by="open_id")
    await out.reply("k:reply", "om_1", "hi", chat="oc_a", in_thread=True)
    await out.patch("k:patch", "om_1", CARD, chat="oc_a")
    await out.urgent("k:urgent", "om_1", ["ou_a"], chat="oc_a", kind="sms", fault_id=7, callback="x")
    await out.create_chat("k:create_chat", lane="fault:1", name="n", user_ids=["ou_a"], bot_ids=["cli_x"])
    await out.add_members("k:add_members", "oc_a", ["ou_a"])
    await out.update_chat("k:update_chat", "oc_a", name="n2")
    await out.pin("k:pin", "oc_a", "om_1")
    await out.send_file("k:send_file", "oc_a", "a.csv", "YQ==")
    await out.create_task("k:create_task", lane="tasks", task=TASK)
    await out.patch_task("k:patch_task", "g1", lane="tasks", task={"summary": "t"}, fields=["summary"])
    await out.add_task_members("k:add_task_members", "g1", TASK["members"], lane="tasks")
    await out.remove_task_members("k:remove_task_members", "g1", TASK["members"], lane="tasks")
    await out.create_calendar("k:create_calendar", lane="calendar:t", calendar={"summary": "s"})
    await out.calendar_acl("k:calendar_acl", "cal_1", "ou_a", lane="calendar:t")
    await out.create_event("k:create_event", "cal_1", {"summary": "s"}, lane="calendar:t")
    await out.patch_event("k:patch_event", "ev_1", {"summary": "s"}, calendar="cal_1", lane="calendar:t")
    await out.delete_event("k:delete_event", "ev_1", calendar="cal_1", lane="calendar:t")
    await out.add_attendees("k:add_attendees", "ev_1", ["ou_a"], calendar="cal_1", lane="calendar:t")
    await out.remove_attendees("k:remove_attendees", "ev_1", ["ou_a"], calendar="cal_1", lane="calendar:t")
    await out.update_record("k:update_record", "rec_1", {"状态": "已播"}, app_token="bas", table_id="tbl", lane="bt")


async def test_each_helper_queues_a_row_its_builder_sends(database):
    """A row queued by each typed helper is one the sender can build, limit and send to a call
    the op declares; content is masked before it is stored; buzzes are pages."""
    async with database.session() as session:
        await _queue_one_of_each(outbox.to(session))
    async with database.session() as session:
        rows = {r.key: r for r in (await session.execute(select(OutboxMessage))).scalars()}
    assert {r.op for r in rows.values()} == set(outbox.OPS)
    for row in rows.values():
        op = ops.op_of(row.op)
        method, path, paths, query, body = request_for(row, row.target)
        assert f"{method} {path}" in op.calls, row.op
        assert all(f":{name}" in path for name in paths), (row.op, path, paths)
        keys = keys_for(Job(row, row.target))
        assert keys.apis[0] == f"{method} {path}" and keys.lane == row.lane
        assert bool(keys.message) == op.per_message
    assert "13800138000" not in str(rows["k:send"].payload)  # masked before it was stored
    assert rows["k:send"].payload == {"receive_id_type": "chat_id", "msg_type": "text",
                                      "content": rows["k:send"].payload["content"]}
    assert rows["k:dm"].lane == "user:ou_a" and rows["k:dm"].payload["msg_type"] == "interactive"
    assert rows["k:reply"].payload["reply_in_thread"] is True
    assert rows["k:urgent"].priority == outbox.PAGE and rows["k:urgent"].payload == {
        "kind": "sms", "user_ids": ["ou_a"], "fault_id": 7}
    assert request_for(rows["k:urgent"], "om_1")[1].endswith("/urgent_sms")
    assert keys_for(Job(rows["k:urgent"], "om_1")).apis == (
        "PATCH /open-apis/im/v1/messages/:message_id/urgent_sms", ops.READ_MEMBERS)
    assert keys_for(Job(rows["k:send_file"], "oc_a")).apis == ("POST /open-apis/im/v1/files", ops.SEND_API)


def test_an_op_nothing_declares_is_refused():
    class Row:
        op, key, payload = "upload_image", "k", {}

    with pytest.raises(ValueError, match="upload_image"):
        request_for(Row(), "x")  # type: ignore[arg-type]
