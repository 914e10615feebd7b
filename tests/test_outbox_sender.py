"""The outbox sender against the simulator: limits, retries, permanent errors, files."""
from __future__ import annotations

import pytest

from sqlalchemy import select

from bot import outbox
from bot.store.models import OutboxMessage

pytestmark = pytest.mark.feishu_pace  # the sender's rules, under Feishu's real per-chat limit


async def _enqueue_texts(h, chat: str, n: int, prefix: str = "t") -> None:
    async with h.db.session() as s:
        for i in range(n):
            await outbox.enqueue(s, key=f"{prefix}:{i}", op="send", lane=chat, target=chat,
                                 payload={"receive_id_type": "chat_id", "msg_type": "text",
                                          "content": {"text": f"{prefix} {i}"}})
    h.bot.sender.wake()
    await h.settle(timeout=20)


def _texts(h, chat="team"):
    return [m["content"]["text"] for m in h.bot_messages(chat) if m["msg_type"] == "text"]


async def test_burst_to_one_chat_keeps_order_and_limits(harness):
    await _enqueue_texts(harness, "oc_team", 12)
    assert _texts(harness) == [f"t {i}" for i in range(12)]
    assert harness.sim.stats["rate_limited_chat"] == 0


async def test_429_and_230020_are_waited_out_not_dropped(harness):
    harness.sim.faults.add("429", path_contains="/im/v1/messages", times=2)
    harness.sim.faults.add("230020", path_contains="/im/v1/messages", times=2)
    await _enqueue_texts(harness, "oc_team", 3)
    assert _texts(harness) == ["t 0", "t 1", "t 2"]


async def test_transient_errors_are_retried_exactly_once_delivered(harness):
    harness.sim.faults.add("5xx", path_contains="/im/v1/messages", times=2)
    harness.sim.faults.add("nonjson", path_contains="/im/v1/messages", times=1)
    await _enqueue_texts(harness, "oc_team", 2)
    assert _texts(harness) == ["t 0", "t 1"]


async def test_token_expiry_mid_run_is_refreshed(harness):
    await _enqueue_texts(harness, "oc_team", 1, prefix="a")
    harness.sim.expire_tokens()
    await _enqueue_texts(harness, "oc_team", 1, prefix="b")
    assert _texts(harness) == ["a 0", "b 0"]


async def test_permanent_error_is_recorded_not_retried_and_admins_told(harness):
    harness.sim.faults.add("permanent", path_contains="/im/v1/messages", times=1)
    await _enqueue_texts(harness, "oc_team", 1, prefix="p")
    async with harness.db.session() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == "p:0"))).scalar_one()
    assert row.status == "failed" and row.error_code == 230002 and row.attempts == 1
    admin_chat = harness.sim.p2p_chat(harness.users["admin"])["chat_id"]
    assert not [m for m in harness.sim.messages(admin_chat) if m["sender"]["type"] == "app"]  # not one DM per row
    await harness.advance(11 * 60)  # the digest gathers for 10 minutes
    notices = [m for m in harness.sim.messages(admin_chat) if m["sender"]["type"] == "app"]
    assert len(notices) == 1 and "230002" in harness.text_of(notices[0])
    await harness.say("admin", "/状态")
    assert "230002" in harness.text_of(harness.last_reply())


async def test_unsent_rows_resume_after_restart_and_nothing_twice(harness):
    await harness.stop_bot()
    async with harness.db.session() as s:
        for i in range(3):
            await outbox.enqueue(s, key=f"r:{i}", op="send", lane="oc_team", target="oc_team",
                                 payload={"receive_id_type": "chat_id", "msg_type": "text",
                                          "content": {"text": f"r {i}"}})
        # a row claimed by a sender that died after Feishu accepted it
        await outbox.enqueue(s, key="r:3", op="send", lane="oc_tech", target="oc_tech",
                             payload={"receive_id_type": "chat_id", "msg_type": "text",
                                      "content": {"text": "r 3"}})
    from bot.feishu.platform import Platform
    from bot.sender import request_for

    async with harness.db.session() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == "r:3"))).scalar_one()
    platform = Platform(harness.sim_url.rstrip("/"), "cli_test000000001", "test-secret")
    method, path, paths, query, body = request_for(row, "oc_tech")
    assert (await platform.call(method, path, query=query, body=body, paths=paths)).ok
    await platform.close()
    await harness.start_bot()
    harness.bot.sender.wake()
    await harness.settle()
    assert _texts(harness) == ["r 0", "r 1", "r 2"]
    assert _texts(harness, "tech") == ["r 3"]  # same uuid: Feishu (the simulator) kept one


async def test_send_file(harness):
    async with harness.db.session() as s:
        await outbox.enqueue(s, key="f:1", op="send_file", lane="oc_team", target="oc_team",
                             payload={"receive_id_type": "chat_id", "file_name": "排期.csv",
                                      "file_type": "stream", "data_b64": "5pel5pyfLOebtOaSremXtAo="})
    harness.bot.sender.wake()
    await harness.settle()
    msg = harness.last_reply()
    assert msg["msg_type"] == "file" and msg["content"]["file_key"].startswith("file_")


async def test_mix_of_faults_every_message_exactly_once_permanent_reported(harness):
    for kind, times in (("5xx", 3), ("nonjson", 2), ("429", 2), ("230020", 3), ("token_expired", 2),
                        ("permanent", 1)):
        harness.sim.faults.add(kind, path_contains="/im/v1/messages", times=times)
    harness.sim.faults.add("timeout", path_contains="/im/v1/messages", times=2, seconds=0.3)
    async with harness.db.session() as s:
        for i in range(20):
            chat = ("oc_team", "oc_tech")[i % 2]
            await outbox.enqueue(s, key=f"mix:{i}", op="send", lane=chat, target=chat,
                                 payload={"receive_id_type": "chat_id", "msg_type": "text",
                                          "content": {"text": f"mix {i}"}})
    harness.bot.sender.wake()
    await harness.settle(timeout=60)
    async with harness.db.session() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.key.like("mix:%")))).scalars().all()
    failed = [r for r in rows if r.status == "failed"]
    # the permanent error ends that row at once (earlier attempts were transient faults)
    assert len(failed) == 1 and failed[0].error_code == 230002
    delivered = _texts(harness) + _texts(harness, "tech")
    expected = sorted(f"mix {i}" for i in range(20) if f"mix:{i}" != failed[0].key)
    assert sorted(delivered) == expected  # each once, none lost
    assert harness.sim.faults.pending() == [] or all(f["remaining"] == 0 for f in harness.sim.faults.pending())
