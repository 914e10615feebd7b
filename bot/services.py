"""The seams every part of the bot shares, wired once in bot.app."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo

from bot.access import Members
from bot.clock import Clock
from bot.commands.registry import REGISTRY, Registry
from bot.config import Settings
from bot.store.db import Database


@dataclass
class BotIdentity:
    open_id: str = ""
    name: str = "LiveOps"


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    platform: Any  # bot.feishu.platform.Platform: reads that are not outbox sends
    bot: BotIdentity = field(default_factory=BotIdentity)
    registry: Registry = field(default_factory=lambda: REGISTRY)
    wake_sender: Callable[[], None] = lambda: None
    metrics: Any = None
    members: Members = field(default_factory=Members)  # group member lists for access checks
    # Learned once a group message that does not @ the bot arrives (bot.feishu.groupmode).
    group_messages_seen: bool = False
    # Set whenever an event was handled or a row sent: tests and tools wait on it instead
    # of sleeping.
    pulse: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz
