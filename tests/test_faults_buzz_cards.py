"""Fault pages against Feishu's rules (issue 13): buzz only members of the chat, fall back to
an @mention and a direct message when a buzz is refused (230001 / 230052) and say so on the
card; a fault card older than 14 days is posted afresh instead of patched, and later updates
follow the new card."""
from __future__ import annotations

import pytest

from tests.test_faults_e2e import cards_in, fault_group, faults, seed, texts

NOTE = "加急失败，已改为 @ 和私信"


@pytest.fixture
async def team(harness):
    await seed(harness)
    return harness


def dms(h, who: str) -> str:
    chat = h.sim.p2p_chat(h.users[who])["chat_id"]
    return "\n".join(h.text_of(m) for m in h.sim.messages(chat) if m["sender"]["type"] == "app")


def patches(h, message_id: str) -> list[dict]:
    return [r for r in h.sim.requests(message_id) if r["method"] == "PATCH" and r["path"].endswith(message_id)]


def buzzed_ids(h) -> list[str]:
    return [i for r in h.sim.requests("/urgent_app") for i in (r["json"] or {}).get("user_id_list", [])]


async def test_only_members_are_buzzed_the_others_get_a_mention_and_a_dm(team):
    h = team
    h.sim.state.chats[h.chats["tech"]].members.remove(h.users["tech"])  # the on-call left the tech group
    await h.say("member", "@LiveOps 1号直播间补光灯不亮了")  # P2: a thread in the tech group
    (f,) = await faults(h)
    assert f.mode == "thread" and f.oncall_ids == [h.users["tech"]]
    assert h.users["tech"] not in buzzed_ids(h)  # never asked Feishu to buzz a non-member
    tcard = cards_in(h, h.chats["tech"])[0]
    assert not h.sim.message(tcard["message_id"])["urgent"]
    assert f'<at user_id="{h.users["tech"]}">' in texts(h, h.chats["tech"]) and "加急没有送达" in texts(h, h.chats["tech"])
    assert "#1" in dms(h, "tech") and "不在群里" in dms(h, "tech")
    assert f.buzz_fallback
    assert NOTE in h.text_of(h.sim.message(tcard["message_id"]))  # the card says so
    report_card = cards_in(h, h.chats["team"])[0]
    assert NOTE in h.text_of(h.sim.message(report_card["message_id"]))


async def test_a_group_that_refuses_buzzes_230052_falls_back(team):
    h = team
    h.sim.faults.add("230052", path_contains="/urgent_app", times=5)
    await h.say("streamer", "@LiveOps 3号直播间推流断了")  # P0: a fault group, the on-call buzzed
    group = fault_group(h)
    gcard = cards_in(h, group["chat_id"])[0]
    assert not h.sim.message(gcard["message_id"])["urgent"]
    assert "只允许群主和管理员加急" in texts(h, group["chat_id"])
    assert f'<at user_id="{h.users["tech"]}">' in texts(h, group["chat_id"])
    assert "#1" in dms(h, "tech")
    (f,) = await faults(h)
    assert f.buzz_fallback and NOTE in h.text_of(h.sim.message(gcard["message_id"]))
    async with h.db.session() as s:  # a refused buzz is handled, not a failure for the admins' digest
        from sqlalchemy import select

        from bot.store.models import OutboxMessage
        failed = (await s.execute(select(OutboxMessage).where(OutboxMessage.status == "failed"))).scalars().all()
    assert failed == []


async def test_a_fault_card_older_than_14_days_is_posted_afresh_then_updated(team):
    h = team
    await h.say("member", "@LiveOps 1号直播间补光灯不亮了")  # P2: card in the team group and the tech thread
    (old,) = cards_in(h, h.chats["tech"])
    patches_before = len(patches(h, old["message_id"]))
    await h.advance(15 * 24 * 3600)  # the SLA ladder fires late and refreshes the cards
    assert len(patches(h, old["message_id"])) == patches_before
    old_again, fresh = cards_in(h, h.chats["tech"])
    assert old_again["message_id"] == old["message_id"] and "#1" in h.text_of(fresh)
    await h.say("tech", "/故障 认领 #1")
    (f,) = await faults(h)
    assert f.status == "acked"
    assert patches(h, fresh["message_id"])  # updates follow the new card
    assert len(cards_in(h, h.chats["tech"])) == 2
    assert h.text_of(h.sim.message(fresh["message_id"])) != h.text_of(fresh)  # shows the ack now
