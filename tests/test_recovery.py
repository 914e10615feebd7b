"""An event claimed by a worker that died is handled after restart, once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.clock import wall_now
from bot.store.models import InboxEvent


async def test_claimed_but_unfinished_event_is_processed_after_restart(harness):
    await harness.stop_bot()
    # The event arrives and is stored (answered 200) ...
    await harness.sim.send_text("oc_team", harness.users["member"], "/在吗")
    # ... nobody is serving: the delivery failed. Store it as the old process would have,
    # claimed by a worker that then died.
    event = harness.sim.events()[-1]["payload"]
    from bot.store import inbox

    await inbox.InboxWriter(harness.db).store(event_id=event["header"]["event_id"], event_type="im.message.receive_v1",
                            message_id=event["event"]["message"]["message_id"], payload=event, source="webhook",
                            now=wall_now(), lane="oc_team")
    async with harness.db.session() as s:
        await s.execute(update(InboxEvent).values(status="claimed", claimed_by="dead-worker/0", attempts=1,
                                                  claimed_until=wall_now() - timedelta(seconds=1)))
    await harness.start_bot()
    harness.bot.workers.wake()
    await harness.settle()
    async with harness.db.session() as s:
        row = (await s.execute(select(InboxEvent))).scalar_one()
    assert row.status == "done" and row.attempts == 2
    assert len(harness.bot_messages()) == 1


async def test_events_of_one_chat_are_answered_in_order(harness):
    for i in range(6):
        await harness.sim.send_text("oc_team", harness.users["member"], f"/帮助 {['角色', '在吗', '我是谁'][i % 3]}")
    await harness.settle()
    titles = [harness.text_of(m).split("\n")[0] for m in harness.bot_messages()]
    assert titles == ["/角色", "/在吗", "/我是谁", "/角色", "/在吗", "/我是谁"]
