"""Chats and people the router read lately: plain group chatter the intake may settle alone.

Most of what reaches a bot with im:message.group_msg is people talking to each other. The
router would read who is asking, find the chat and the person already recorded, no chatter
handler listening in that kind of chat, and change nothing. When the router has seen, within
the last ``FRESH`` seconds, that the chat (and its kind) and the person are on record, the
webhook stores such a message already done, in the same write that makes its 200 true:
no worker claims it and no handler transaction runs (``Router.settled`` decides).

Anything else goes the usual way: a command (``/…``), an @mention of the bot or of anyone, a
direct message, a file or an image, a chat or person not seen lately, a chat whose kind a
chatter handler listens in (a fault group's timeline), and everything before the bot knows
its own open_id or that every group message arrives. What the router remembers is what it
read from committed rows; another replica's change reaches this one within ``FRESH``
seconds (the next message after that goes the usual way and reads again). The same holds for a
chat whose kind changes here: today only chatter handlers for fault groups exist, and a chat
is a fault group from the moment its row is written; a handler for a kind that existing chats
move into (``/群 设为``) would miss up to ``FRESH`` seconds of chatter after the change.

``may_be_chatter`` is the intake's quick look before all that: a message that cannot be chatter
(a command, a mention, a direct chat, a file) is not read in full.
"""
from __future__ import annotations

import json
import time
from typing import Callable

SLASHES = ("/", "／")  # what a command starts with (bot.router.parse_command)
FRESH = 60.0  # seconds a remembered chat or person counts as known
MAX_REMEMBERED = 20_000  # entries of each kind; past it the memory starts again (a full read each)


class Known:
    def __init__(self, mono: Callable[[], float] = time.monotonic) -> None:
        self.mono = mono
        self._chats: dict[str, tuple[str, float]] = {}  # chat_id -> (kind, when read)
        self._people: dict[str, float] = {}  # open_id -> when read

    def saw(self, chat_id: str, kind: str, open_id: str) -> None:
        """The router read both rows as committed (not inserted by its own transaction)."""
        now = self.mono()
        if len(self._chats) >= MAX_REMEMBERED:
            self._chats.clear()
        if len(self._people) >= MAX_REMEMBERED:
            self._people.clear()
        self._chats[chat_id] = (kind, now)
        self._people[open_id] = now

    def person(self, open_id: str) -> bool:
        """Whether the person's row was read within FRESH seconds."""
        seen = self._people.get(open_id)
        return seen is not None and self.mono() - seen <= FRESH

    def kind(self, chat_id: str, open_id: str) -> str | None:
        """The chat's kind when both the chat and the person were read within FRESH seconds."""
        chat, seen, now = self._chats.get(chat_id), self._people.get(open_id), self.mono()
        if chat is None or seen is None or now - chat[1] > FRESH or now - seen > FRESH:
            return None
        return chat[0]


def may_be_chatter(body: dict) -> bool:
    """A cheap look at a stored message event's envelope: False when ``Router.settled`` would
    say False anyway (a person's message with an @mention, in a direct chat, a file or an image,
    or a "/command"), so the intake reads the whole event only for what may be chatter. Anything
    else (another app's message included) is left to the full parse."""
    event = body.get("event")
    message = event.get("message") if isinstance(event, dict) else None
    sender = event.get("sender") if isinstance(event, dict) else None
    if not isinstance(message, dict) or not isinstance(sender, dict) or sender.get("sender_type", "user") != "user":
        return True
    mentions = message.get("mentions")
    if (isinstance(mentions, list) and any(isinstance(m, dict) for m in mentions)
            or message.get("chat_type", "group") != "group" or message.get("message_type") in ("file", "image")):
        return False
    if message.get("message_type") == "text":
        content = message.get("content")
        if isinstance(content, str) and ('"text":"/' in content or '"text": "/' in content):
            return False  # a "/command" as Feishu writes it, without reading the JSON
        try:
            text = json.loads(content or "{}").get("text")
        except (AttributeError, TypeError, ValueError, RecursionError):
            return True  # the full parse decides
        if isinstance(text, str) and text.lstrip().startswith(SLASHES):
            return False
    return True
