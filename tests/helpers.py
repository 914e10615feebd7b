"""Looking at what the bot said, the same way for every test: the end-to-end harness
(tests/harness.py) and the seam (tests/seam.py) hand out messages of one shape (the
simulator's /_sim view: ``msg_type``, parsed ``content``, ``message_id``, ``parent_id`` ...),
and these read them; and a free port for a process a test starts. One copy here instead of one
per test file."""
from __future__ import annotations

import json
import socket
from datetime import datetime
from typing import Any, Iterator


def nodes(tree: Any, *, json_strings: bool = False) -> Iterator[dict]:
    """Every dict in a card (or any JSON tree), depth first, each before what it holds. With
    ``json_strings`` a string holding a JSON object is read too (a chart's spec)."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from nodes(value, json_strings=json_strings)
    elif isinstance(tree, list):
        for value in tree:
            yield from nodes(value, json_strings=json_strings)
    elif json_strings and isinstance(tree, str) and tree.startswith("{"):
        try:
            parsed = json.loads(tree)
        except ValueError:
            return
        yield from nodes(parsed, json_strings=True)


def text_of(message: dict) -> str:
    """All visible text of a message: a text body or every markdown of a card."""
    content = message["content"]
    if message["msg_type"] == "text":
        return content.get("text", "")
    out: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("content"), str):
                out.append(node["content"])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(content)
    return "\n".join(out)


def texts(h, chat: str = "team") -> list[str]:
    """The text of each of the bot's messages in ``chat``, oldest first."""
    return [text_of(m) for m in h.bot_messages(chat)]


def find(h, needle: str, chat: str = "team") -> list[dict]:
    """The bot's messages in ``chat`` whose text contains ``needle``."""
    return [m for m in h.bot_messages(chat) if needle in text_of(m)]


def buttons(message: dict) -> list[dict]:
    """Every button on a card."""
    return [n for n in nodes(message["content"]) if n.get("tag") == "button"]


def button_values(message: dict) -> list[dict]:
    """The value of each behaviour of each button on a card ({} for one without), in order."""
    return [b.get("value") or {} for n in buttons(message) for b in n.get("behaviors") or []]


def values(message: dict) -> list[dict]:
    """The value of every callback behaviour anywhere on a card (buttons, and overflow or
    select options), in order."""
    return [b["value"] for n in nodes(message["content"]) for b in (n.get("behaviors") or [])
            if isinstance(b, dict) and isinstance(b.get("value"), dict)]


def button_value(message: dict, action: str) -> dict:
    """The value of the first behaviour on ``message`` whose action is ``action``."""
    found = [v for v in values(message) if v.get("a") == action]
    assert found, f"no {action} button"
    return found[0]


async def advance_to(h, when: datetime) -> None:
    """Move the injected clock to ``when`` and let everything due run."""
    await h.advance((when - h.clock.now()).total_seconds())


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now, for a process the test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
