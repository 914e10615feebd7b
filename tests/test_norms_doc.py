"""docs/norms.md: the 26 norms of the seed, each with what carries it — and every command (with
its verb), card action and setting named there exists in the registry and the norm settings."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.commands import load_all
from bot.commands.registry import REGISTRY
from bot.norms import config

DOC = Path(__file__).resolve().parent.parent / "docs" / "norms.md"
ROW = re.compile(r"^\|\s*(\d+)\s*\|(.+)\|$", re.M)
SPAN = re.compile(r"`([^`\n]+)`")
ACTION = re.compile(r"^[a-z]+\.[a-z_]+$")


@pytest.fixture(scope="module")
def rows() -> list[tuple[int, str]]:
    load_all()
    return [(int(n), rest) for n, rest in ROW.findall(DOC.read_text(encoding="utf-8"))]


def test_the_table_lists_all_26_norms_each_with_a_carrier(rows):
    assert [n for n, _ in rows] == list(range(1, 27))
    for n, rest in rows:
        carried = rest.rsplit("|", 1)[-1]
        assert SPAN.search(carried), f"norm {n} names no command, card or setting"


def test_every_command_named_exists_with_its_verb(rows):
    missing = []
    for n, rest in rows:
        for span in SPAN.findall(rest):
            if not span.startswith(("/", "／")):
                continue
            head, _, args = span.lstrip("/／").partition(" ")
            spec = REGISTRY.find(head)
            if spec is None:
                missing.append(f"norm {n}: /{head} is not a command")
                continue
            verb, _ = spec.resolve(args)
            if verb is None:
                missing.append(f"norm {n}: {span} names no verb of /{spec.name}")
    assert not missing, "\n".join(missing)


def test_every_card_action_and_setting_named_exists(rows):
    missing = []
    for n, rest in rows:
        for span in SPAN.findall(rest):
            if span.startswith(("/", "／")) or not (ACTION.match(span) or span in config.DEFAULTS):
                continue
            if span not in REGISTRY.actions and span not in config.DEFAULTS:
                missing.append(f"norm {n}: {span} is neither a card action nor a setting")
    assert not missing, "\n".join(missing)
    named = {s for _, rest in rows for s in SPAN.findall(rest)}
    # every issue-19 setting is documented
    for key in ("sentiment.respond", "sentiment.replies", "adhoc.plan", "adhoc.escalate", "emergency.window",
                "emergency.noshow", "handover.days", "handover.checklist", "newbie.days", "newbie.template",
                "optional.quarterly"):
        assert key in named, key
