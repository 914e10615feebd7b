"""Every feature module that registers something, listed once.

Importing a module registers what it declares: commands and verbs (``command_group``), card
actions (``card_action``), timer handlers (``@timers.handler(kind)``), sender callbacks
(``@on_sent``) and Feishu event handlers (``@on_event``). ``bot.commands.load_all`` imports
every module of bot/commands/ and then :func:`load`, so nothing depends on a command module
happening to import a feature for its side effects.

A new feature module that declares any of these goes in ``FEATURES``; tests/test_features.py
fails when one is missing, when a timer kind that is scheduled has no handler, and when a card
carries an action id that is not registered. Timer handlers live in the feature's own
``timers.py`` where the feature has several (bot/tasks/timers.py, bot/norms/timers.py), or next
to the code that plans them (one ``KIND`` per module).
"""
from __future__ import annotations

import importlib

FEATURES: tuple[str, ...] = (
    # the time language's /节假日 cards and the /提醒 reminders
    "bot.timeparse.holiday_cards",
    "bot.reminders.cards",
    # schedule, faults, tasks, reviews, data
    "bot.schedule.cards",
    "bot.faults.cards",
    "bot.faults.sla",
    "bot.tasks.cards",
    "bot.tasks.notify",
    "bot.tasks.timers",
    "bot.tasks.mirror",
    "bot.reviews.cards",
    "bot.reviews.timers",
    "bot.data.cards",
    "bot.data.sources",
    # the team norms (issue 19)
    "bot.norms.cards",
    "bot.norms.announce",
    "bot.norms.cadence",
    "bot.norms.checkpoints",
    "bot.norms.afterstream",
    "bot.norms.emergency",
    "bot.norms.people_norms",
    "bot.norms.sentiment",
    "bot.norms.timers",
    # the Feishu-native features (issue 17, docs/feishu-native.md)
    "bot.bitable.commands",
    "bot.calendar.commands",
    "bot.calendar.sync",
    "bot.calendar.watch",
    "bot.survey.commands",
    # briefings, compliance retention and the bot's own upkeep
    "bot.briefing.fanout",
    "bot.compliance.retention",
    "bot.housekeeping",
    "bot.outbox_digest",
)


def load() -> None:
    for name in FEATURES:
        importlib.import_module(name)
