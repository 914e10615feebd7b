"""Every example that /帮助 shows, in Chinese and in English, is understood by its command: run as an admin in the team
group (rooms, team and a stream in place), none of them gets the usage text, a "don't
understand" or an unexpected-error reference. (Answers such as "no stream #12" are fine:
the example was understood.)"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands.registry import REGISTRY
from tests.test_schedule_service import seed_team

REFUSALS = ("用法：", "参考编号", "看不懂", "Usage:", "reference")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_every_help_example_is_understood(harness):
    h = harness
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    failures = []
    sample = Path(__file__).parent / "data" / "compass_summary.csv"
    for verb in REGISTRY.verbs():
        for example in verb.examples + verb.examples_en:
            before = len(h.bot_messages())
            if verb.needs_reply:  # written as a reply to the message it acts on (an uploaded file)
                upload = await h.sim.upload_file(h.chats["team"], h.users["member"], "notes.csv", sample.read_bytes())
                await h.settle()
                before = len(h.bot_messages())
                await h.sim.send_text(h.chats["team"], h.users["admin"], example, parent_id=upload["message_id"])
                await h.settle()
            else:
                await h.say("admin", example)
            answers = [h.text_of(m) for m in h.bot_messages()[before:]]
            bad = [a for a in answers if any(r in a for r in REFUSALS)]
            if bad or not answers:
                failures.append((example, (bad or ["(no answer)"])[0][:160]))
    assert not failures, "\n".join(f"{e}  →  {why}" for e, why in failures)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_help_shows_examples_in_the_chat_language(harness):
    h = harness
    await h.say("admin", "/help remind")
    assert "/提醒 明天 19:00 对样品" in h.text_of(h.last_reply())
    await h.say("admin", "/lang English")
    await h.say("admin", "/help remind")
    text = h.text_of(h.last_reply())
    assert "/remind in 30 minutes check the stock" in text and "/提醒 明天 19:00 对样品" not in text
    await h.say("admin", "/remind")  # no arguments: the usage text's example is English too
    assert "/remind tomorrow 9am call the brand" in h.text_of(h.last_reply())


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_norm_setting_is_confirmed_by_its_name_in_the_chat_language(harness):
    h = harness
    await h.say("admin", "/norms on selfeval")
    assert "已设置：自评表 = 开启" in h.text_of(h.last_reply())
    await h.say("admin", "/lang English")
    await h.say("admin", "/规范 关闭 自评表")
    assert "selfeval" in h.text_of(h.last_reply()) and "自评表" not in h.text_of(h.last_reply())
