"""Random text after every command never produces an unexpected error (a reference-id reply)
or a traceback in a chat, and random JSON never gets a 5xx from the webhook. Seeded, so a
failure names its input and repeats."""
from __future__ import annotations

import json
import random

from bot.commands import load_all
from bot.commands.registry import REGISTRY
from tests.test_webhook import _post

load_all()
NAMES = sorted({spec.name for spec in REGISTRY.specs})
WORDS = ["#1", "#0", "#999999999999", "R1", "@陈助播", "明天", "25:00", "本周", "列表", "添加", "取消", "1号直播间",
         "-1", "0", "１２", "🔥", "<at id=all></at>", "**", "%s", "{x}", "\n", "'; drop table inbox;--", "P0",
         "网络", "English", "全部", "导出", "ics", "csv", "暂停", "完成", "改", "设置", "9999-99-99", "19:00-01:00"]


def _junk(rng: random.Random) -> str:
    return "".join(chr(rng.choice([rng.randint(33, 126), rng.randint(0x4E00, 0x9FA5), rng.randint(0x1F300, 0x1F5FF)]))
                   for _ in range(rng.randint(1, 8)))


def _args(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) if rng.random() < 0.7 else _junk(rng) for _ in range(rng.randint(0, 5)))


async def test_random_arguments_to_every_command(seam):
    if seam.db.dialect != "sqlite":  # one database is enough for the fuzz run
        return
    rng = random.Random(20261126)
    for name in NAMES:
        for _ in range(4):
            typed = f"/{name} {_args(rng)}".strip()
            before = len(seam.bot_messages())
            await seam.say(rng.choice(["admin", "member"]), typed)
            for message in seam.bot_messages()[before:]:
                text = seam.text_of(message)
                assert "参考编号" not in text and "Traceback" not in text, (typed, text)


def _json(rng: random.Random, depth: int = 0):
    kind = rng.randint(0, 6 if depth < 4 else 3)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-2**63, 2**63)
    if kind == 3:
        return _junk(rng)
    if kind == 4:
        return [_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["header", "event", "encrypt", "type", "challenge", "token", "schema", "event_id", "message", _junk(rng)]
    return {rng.choice(keys): _json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


async def test_webhook_random_json_never_5xx(harness):
    if harness.db.dialect != "sqlite":
        return
    rng = random.Random(7)
    for _ in range(300):
        status, text = await _post(harness, json.dumps(_json(rng)).encode())
        assert status < 500 and "Traceback" not in text
