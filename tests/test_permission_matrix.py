"""The permission matrix, generated from the registry: every declared verb and card action, run
as an outsider, a member, each role and an admin, in the group that owns the records, in another
group and in a direct chat, is allowed or refused exactly as its declaration (role + scope, see
bot.access) says. What is observed is the router's own refusal counter, so a handler that forgot
a check, or a check nobody declared, shows up as a mismatch."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from bot import records, roles
from bot.access import Scope
from bot.commands.registry import REGISTRY, ActionSpec, VerbSpec, command_group
from bot.store.models import Chat
from tests.test_access import team_records

PERSONAS = ("outsider", "member", "streamer", "tech", "ops", "admin")
HELD = {"outsider": {roles.MEMBER}, "member": {roles.MEMBER}, "streamer": {roles.MEMBER, roles.STREAMER},
        "tech": {roles.MEMBER, roles.TECH}, "ops": {roles.MEMBER, roles.OPS}, "admin": {roles.MEMBER, roles.ADMIN}}
FIXTURE_ID = 1  # every record kind's fixture is #1 (tests.test_access.team_records)


def denied(h) -> float:
    return sum(s.value for m in h.bot.metrics.access_denied.collect() for s in m.samples
               if s.name.endswith("_total"))


async def expected(h, spec: VerbSpec | ActionSpec, persona: str, chat_id: str) -> bool | None:
    """What the declaration says (None: decided by the handler on a record it looks up itself)."""
    held = HELD[persona]
    if not roles.allowed(held, spec.role):
        return False
    if spec.scope == Scope.OPEN:
        return True
    if persona == "outsider":
        return False
    if spec.record is None:
        return True
    if isinstance(spec, VerbSpec) and spec.ref == "handler":
        return None
    async with h.db.session() as s:
        owned = await spec.record.load(s, FIXTURE_ID)
    user = h.users[persona]
    if roles.ADMIN in held or spec.record.covered_by & held or user in owned.people:
        return True
    if spec.scope == Scope.OWNERS:
        return False
    return chat_id in owned.chats or "oc_team" in owned.chats  # every persona but the outsider is in it


def text_for(verb: VerbSpec) -> str:
    """The verb's first example, naming the fixture records."""
    text = verb.examples[0]
    text = re.sub(r"[#＃]\d+", f"#{FIXTURE_ID}", text)
    text = re.sub(r"\bR\d+", f"R{FIXTURE_ID}", text)
    if verb.record is not None and verb.ref == "first":
        head = verb.usage_for("zh_CN").split()[:2]
        text = re.sub(rf"^(/{re.escape(head[0][1:])}\s+{re.escape(head[1])}\s+)\d+", rf"\g<1>{FIXTURE_ID}", text)
    return text


async def places(h, persona: str, spec: VerbSpec | ActionSpec | None = None) -> list[str]:
    """Where to try: the owning group, another group and a direct chat when the spec acts on a
    record (where you ask decides); a direct chat and another group otherwise."""
    out = [h.p2p_chat(persona)["chat_id"], "oc_other"]
    if spec is not None and spec.record is None:
        return out
    return out if persona == "outsider" else ["oc_team", *out]


async def reset(h) -> None:
    """Verbs like /群 取消 or /语言 change the groups; put them back between runs."""
    async with h.db.session() as s:
        await s.execute(update(Chat).where(Chat.chat_id == "oc_team").values(kind="team", locale=None))
        await s.execute(update(Chat).where(Chat.chat_id == "oc_tech").values(kind="tech"))
        await s.execute(update(Chat).where(Chat.chat_id == "oc_other").values(kind="", locale=None))


# The cases are split into chunks, each run by its own bot (fresh records); every case is in
# exactly one chunk (test_the_chunks_cover_every_case_once). The matrix runs on the seam
# (tests/seam.py: the real router, Ctx and registry, no HTTP): what it observes is the router's
# refusal counter, and Feishu's 5-a-second limit per chat made it ~4 minutes end to end.
VERB_CHUNKS, ACTION_CHUNKS = 8, 3


def chunk(items: list, k: int, n: int) -> list:
    """The k-th of n contiguous slices of ``items`` (neighbouring verbs of one command stay together)."""
    return items[k * len(items) // n:(k + 1) * len(items) // n]


def checked_verbs() -> list[VerbSpec]:
    return [verb for verb in REGISTRY.verbs() if not verb.needs_reply]


def checked_actions() -> list[ActionSpec]:
    return list(REGISTRY.actions.values())


async def matrix_setup(h) -> None:
    await team_records(h)
    await h.say("member", "/提醒 明天 10:00 对样品")
    await h.say("member", "/检查 这款面霜全网最好用")
    h.add_chat("闲聊群", [h.users[p] for p in PERSONAS], chat_id="oc_other")


@pytest.mark.parametrize("part", range(VERB_CHUNKS), ids=lambda k: f"verbs{k + 1}of{VERB_CHUNKS}")
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_every_verb_is_allowed_or_refused_as_declared(seam, part):
    h = seam
    await matrix_setup(h)
    mismatches: list[str] = []
    for verb in chunk(checked_verbs(), part, VERB_CHUNKS):
        text = text_for(verb)
        for persona in PERSONAS:
            for chat_id in await places(h, persona, verb):
                want = await expected(h, verb, persona, chat_id)
                before = denied(h)
                await h.say(persona, text, chat=chat_id)
                refused = denied(h) > before
                await reset(h)
                if want is not None and refused == want:
                    mismatches.append(f"{text!r} as {persona} in {chat_id}: {'refused' if refused else 'allowed'}, "
                                      f"declared {'allowed' if want else 'refused'}")
                elif want is None and refused and persona != "outsider" and roles.allowed(HELD[persona], verb.role):
                    pass  # refused by the record the handler looked up: the declaration allows either
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("part", range(ACTION_CHUNKS), ids=lambda k: f"actions{k + 1}of{ACTION_CHUNKS}")
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_every_card_action_is_allowed_or_refused_as_declared(seam, part):
    h = seam
    await matrix_setup(h)
    mismatches: list[str] = []
    cards: dict[str, str] = {}
    for persona in PERSONAS:
        for chat_id in await places(h, persona):
            if chat_id not in cards:
                await h.say(persona, "/帮助", chat=chat_id)
                cards[chat_id] = h.bot_messages(chat_id)[-1]["message_id"]
    for action in chunk(checked_actions(), part, ACTION_CHUNKS):
        value = action(**{action.ref_key: FIXTURE_ID}) if action.record else action(id=FIXTURE_ID)
        for persona in PERSONAS:
            for chat_id in await places(h, persona, action):
                want = await expected(h, action, persona, chat_id)
                before = denied(h)
                await h.press(cards[chat_id], persona, value)  # any value, as a forged callback could
                refused = denied(h) > before
                await reset(h)
                if refused == want:
                    mismatches.append(f"button {action.name} as {persona} in {chat_id}: "
                                      f"{'refused' if refused else 'allowed'}, declared {'allowed' if want else 'refused'}")
    assert not mismatches, "\n".join(mismatches)


def test_the_chunks_cover_every_case_once():
    from bot.commands import load_all

    load_all()
    for items, n in ((checked_verbs(), VERB_CHUNKS), (checked_actions(), ACTION_CHUNKS)):
        parts = [chunk(items, k, n) for k in range(n)]
        assert [x for part in parts for x in part] == items
        assert all(parts), "an empty chunk: fewer chunks than cases"


def test_a_verb_cannot_be_declared_without_a_scope_or_with_an_unknown_role():
    group = command_group("测试矩阵", "matrixtest", summary=("测试", "test"))
    try:
        with pytest.raises(TypeError):
            group.verb("做", "do", summary=("做", "do"), examples=["/测试矩阵 做"])  # no scope
        with pytest.raises(ValueError):
            group.verb("做", "do", summary=("做", "do"), scope="team", examples=["/测试矩阵 做"])
        with pytest.raises(ValueError):
            group.verb("做", "do", summary=("做", "do"), scope=Scope.TEAM, role="boss", examples=["/测试矩阵 做"])
        with pytest.raises(ValueError):
            group.verb("看", "see", summary=("看", "see"), scope=Scope.RECORD, examples=["/测试矩阵 看 1"])
        with pytest.raises(ValueError):
            group.verb("空", "empty", summary=("空", "empty"), scope=Scope.TEAM, examples=[])
        assert records.TASK.name == "task"
    finally:
        REGISTRY.specs.remove(group)
        for name in group.names:
            REGISTRY.commands.pop(name.lower(), None)
