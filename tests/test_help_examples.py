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


def _refused(h, before: int) -> str | None:
    """The first refusal among the bot's answers since ``before`` ("(no answer)" for none)."""
    answers = [h.text_of(m) for m in h.bot_messages()[before:]]
    bad = [a for a in answers if any(r in a for r in REFUSALS)]
    return (bad or ["(no answer)"])[0][:160] if bad or not answers else None


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_every_help_example_is_understood(seam):
    """The typed examples, each through the real router on the seam (tests/seam.py)."""
    h = seam
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    failures = []
    for verb in REGISTRY.verbs():
        if verb.needs_reply:  # test_every_reply_example_is_understood
            continue
        for example in verb.examples + verb.examples_en:
            before = len(h.bot_messages())
            await h.say("admin", example)
            why = _refused(h, before)
            if why:
                failures.append((example, why))
    assert not failures, "\n".join(f"{e}  →  {why}" for e, why in failures)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_every_reply_example_is_understood(harness):
    """The examples written as a reply to the message they act on (an uploaded file), end to
    end: the file is downloaded from the simulator."""
    h = harness
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    failures = []
    sample = Path(__file__).parent / "data" / "compass_summary.csv"
    replied = [verb for verb in REGISTRY.verbs() if verb.needs_reply]
    assert replied, "no verb is written as a reply any more: drop this test"
    for verb in replied:
        for example in verb.examples + verb.examples_en:
            upload = await h.sim.upload_file(h.chats["team"], h.users["member"], "notes.csv", sample.read_bytes())
            await h.settle()
            before = len(h.bot_messages())
            await h.sim.send_text(h.chats["team"], h.users["admin"], example, parent_id=upload["message_id"])
            await h.settle()
            why = _refused(h, before)
            if why:
                failures.append((example, why))
    assert not failures, "\n".join(f"{e}  →  {why}" for e, why in failures)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_help_shows_examples_in_the_chat_language(seam):
    h = seam
    await h.say("admin", "/help remind")
    assert "/提醒 明天 19:00 对样品" in h.text_of(h.last_reply())
    await h.say("admin", "/lang English")
    await h.say("admin", "/help remind")
    text = h.text_of(h.last_reply())
    assert "/remind in 30 minutes check the stock" in text and "/提醒 明天 19:00 对样品" not in text
    await h.say("admin", "/remind")  # no arguments: the usage text's example is English too
    assert "/remind tomorrow 9am call the brand" in h.text_of(h.last_reply())


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_norm_setting_is_confirmed_by_its_name_in_the_chat_language(seam):
    h = seam
    await h.say("admin", "/norms on selfeval")
    assert "已设置：自评表 = 开启" in h.text_of(h.last_reply())
    await h.say("admin", "/lang English")
    await h.say("admin", "/规范 关闭 自评表")
    assert "selfeval" in h.text_of(h.last_reply()) and "自评表" not in h.text_of(h.last_reply())
