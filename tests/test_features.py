"""The feature manifest (bot/features.py) is complete, and what the bot stores or sends can be handled.

* every module outside bot/commands/ that registers a command, card action, timer handler,
  sender callback, event handler or start-up hook is listed in ``FEATURES`` (so it is loaded
  by the manifest, not because some command module happens to import it);
* every timer kind that code schedules (``timers.schedule(..., kind=...)``) has a handler once
  everything is loaded: a stored timer of that kind would otherwise fire into nothing;
* every card action id a card can carry is registered with a handler: cards get their button
  values from ``card_action`` specs (registered when declared, ``REGISTRY.check`` wants a
  handler for each), and a hand-written ``{"a": ...}`` in a card-building module must name a
  registered action; a press would otherwise be "unknown card action".
"""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from bot import features, timers
from bot.commands import load_all
from bot.commands.registry import REGISTRY

ROOT = Path(__file__).parents[1]
BOT = ROOT / "bot"
# where the registries themselves live, and the simulator (it models Feishu, not the bot)
NOT_FEATURES = {"bot/commands", "bot/sim", "bot/timers/__init__.py", "bot/router.py", "bot/sender.py",
                "bot/feishu/events.py", "bot/features.py"}
REGISTERS = re.compile(r"^(?:@timers\.handler\(|@on_sent\(|@on_event\(|@on_startup\b|\w+ = card_action\(|"
                       r"\w+ = command_group\()", re.M)


def _sources() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(BOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        parts = rel[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _skipped(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == n or rel.startswith(n + "/") for n in NOT_FEATURES)


def test_every_registering_module_is_in_the_manifest():
    missing = [name for name, path in _sources()
               if not _skipped(path) and REGISTERS.search(path.read_text(encoding="utf-8"))
               and name not in features.FEATURES]
    assert missing == [], f"add these to bot/features.py FEATURES: {missing}"


def test_the_manifest_lists_modules_that_exist_once():
    assert len(set(features.FEATURES)) == len(features.FEATURES)
    for name in features.FEATURES:
        importlib.import_module(name)


def test_command_modules_do_not_import_features_for_their_side_effects():
    """The manifest loads features; an import kept only for its registrations hides that."""
    offenders = []
    for path in sorted((BOT / "commands").glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("from ", "import ")) and "noqa: F401" in line:
                offenders.append(f"{path.name}: {line}")
    assert offenders == []


def _scheduled_kinds() -> list[tuple[str, str, object]]:
    """(module, expression, value) for every timers.schedule(..., kind=...) call in bot/."""
    found = []
    for name, path in _sources():
        if _skipped(path) and not path.relative_to(ROOT).as_posix().startswith("bot/commands"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "schedule"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "timers"):
                for kw in node.keywords:
                    if kw.arg == "kind":
                        expr = ast.unparse(kw.value)
                        module = importlib.import_module(name)
                        try:
                            value = eval(expr, vars(module))  # a constant or a module-level name
                        except NameError:
                            value = None
                        found.append((name, expr, value))
    return found


def test_every_scheduled_timer_kind_has_a_handler():
    load_all()
    kinds = _scheduled_kinds()
    assert len(kinds) >= 20  # the walker found the call sites
    unresolved = [(m, e) for m, e, v in kinds if not isinstance(v, str)]
    assert unresolved == [], "kind= must be a string or a module-level constant"
    missing = sorted({(m, v) for m, _, v in kinds if v not in timers.HANDLERS})
    assert missing == []


def _card_action_ids() -> list[tuple[str, str]]:
    """Action ids written into card values by the modules that build cards (they import
    bot.cards): a dict key "a" with a literal id, or anything else ("?: <expression>"), which
    should be a ``card_action`` spec's ``spec(id=...)`` instead."""
    found = []
    for name, path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel.startswith("bot/sim") or rel == "bot/commands/registry.py" or "from bot.cards import" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "a":
                        literal = isinstance(value, ast.Constant) and isinstance(value.value, str)
                        found.append((name, value.value if literal else f"?: {ast.unparse(value)}"))
    return found


def test_every_card_action_a_card_can_carry_is_registered_with_a_handler():
    load_all()
    REGISTRY.check()  # every declared action has a handler
    unknown = [(m, a) for m, a in _card_action_ids() if a not in REGISTRY.actions]
    assert unknown == []
    assert len(REGISTRY.actions) >= 20
    for action in REGISTRY.actions.values():
        assert action(id=1)["a"] == action.name and action.handler is not None
