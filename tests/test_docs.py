"""What README.md and docs/ name exists: every chat command, `liveops` sub-command and flag,
`dev.py` entry point, setting and path they mention (tests/test_help_examples.py is the model:
a statement in the docs that the code does not back is a bug). The tables generated from the code
(bot/docgen.py: commands, permissions, roles, settings) match it, measured figures are quoted
from docs/benchmarks.md only, and README.md's sandbox tour is walked in headless Chromium."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import docgen
from bot.cli import build_parser
from bot.commands import load_all
from bot.commands.registry import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.S)
HTTP = {"healthz", "readyz", "metrics", "feishu", "_sim", "open-apis", "static", "vchart"}
SETTING = re.compile(r"\b((?:BOT|FEISHU|LARK)_[A-Z0-9_]+|DATABASE_URL)\b")
PATH = re.compile(r"(?<![\w/.-])((?:bot|tests|deploy|docs|\.ci)/[\w./*-]*[\w*])")
LIVEOPS = re.compile(r"(?m)^\s*(?:\$ )?(?:\S*/)?liveops[ \t]+([a-z][a-z-]*)((?:[ \t]+--?[a-z][a-z-]*(?:[ =][^\s`]+)?)*)")
DEVPY = re.compile(r"dev\.py\s+([a-z][a-z-]*)")
DEVPY_LIVEOPS = re.compile(r"dev\.py[ \t]+liveops[ \t]+([a-z][a-z-]*)((?:[ \t]+--?[a-z][a-z-]*(?:[ =][^\s`]+)?)*)")
# Written on other branches of this round (norms, PostgreSQL deployment); linked from here already.
# Remove once merged: from then on they must exist like any other path.
ELSEWHERE = {"docs/norms.md", "docs/deployment-postgres.md"}
COMMAND = re.compile(r"(?:^|[\s`(（「])[/／]([\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z-]*)(?=$|[\s`)）」,，。])")


def dev_entries() -> tuple[str, ...]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ENTRIES


def code_spans(text: str) -> list[str]:
    return [a or b for a, b in CODE.findall(text)]


def source_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").rglob("*.py")) + \
        (ROOT / "dev.py").read_text(encoding="utf-8") + "\n".join(
            p.read_text(encoding="utf-8") for p in (ROOT / "deploy").rglob("*") if p.is_file() and p.suffix != ".png")


@pytest.fixture(scope="module")
def registry():
    load_all()
    return REGISTRY


def _docs():
    return [pytest.param(p, id=str(p.relative_to(ROOT))) for p in DOCS if p.exists()]


@pytest.mark.parametrize("doc", _docs())
def test_every_chat_command_named_exists(doc, registry):
    missing = []
    for span in code_spans(doc.read_text(encoding="utf-8")):
        for name in COMMAND.findall(span):
            if name.lower() in HTTP or "/" in name:
                continue
            if registry.find(name) is None:
                missing.append(f"/{name} in `{span[:60]}`")
    assert not missing, f"{doc.name} names commands that do not exist:\n" + "\n".join(missing)


@pytest.mark.parametrize("doc", _docs())
def test_every_setting_named_is_read_by_the_code(doc):
    code = source_text()
    names = set(SETTING.findall(doc.read_text(encoding="utf-8")))
    unknown = sorted(n for n in names if n not in code)
    assert not unknown, f"{doc.name} names settings the code never reads: {unknown}"


@pytest.mark.parametrize("doc", _docs())
def test_every_path_named_exists(doc):
    missing = []
    for path in set(PATH.findall(doc.read_text(encoding="utf-8"))):
        path = path.rstrip(".")
        if "*" in path:
            if not list(ROOT.glob(path)):
                missing.append(path)
        elif not (ROOT / path).exists() and path not in ELSEWHERE:
            missing.append(path)
    assert not missing, f"{doc.name} names paths that do not exist: {sorted(missing)}"


@pytest.mark.parametrize("doc", _docs())
def test_every_liveops_command_and_flag_named_exists(doc):
    parser = build_parser()
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    problems = []
    for span in code_spans(doc.read_text(encoding="utf-8")):
        for sub, flags in LIVEOPS.findall(span) + DEVPY_LIVEOPS.findall(span):
            if sub not in subs:
                problems.append(f"liveops {sub}")
                continue
            known = {o for a in subs[sub]._actions for o in a.option_strings}
            for flag in re.findall(r"--?[a-z][a-z-]*", flags):
                if flag not in known:
                    problems.append(f"liveops {sub} {flag}")
        for entry in DEVPY.findall(span):
            if entry not in dev_entries():
                problems.append(f"dev.py {entry}")
    assert not problems, f"{doc.name} names commands or flags that do not exist: {problems}"


# ---- tables generated from the code (bot/docgen.py, `python3 dev.py docs`) -------------------------

def test_generated_tables_match_the_code():
    assert docgen.stale() == [], "run python3 dev.py docs and commit the result"


@pytest.mark.parametrize("name", sorted(docgen.BLOCKS))
def test_each_generated_table_is_in_its_doc(name):
    text = (ROOT / docgen.WHERE[name]).read_text(encoding="utf-8")
    assert f"<!-- BEGIN GENERATED {name} (python3 dev.py docs) -->" in text
    assert f"<!-- END GENERATED {name} -->" in text


def test_the_permission_table_is_the_one_help_generates(registry):
    from bot.commands.help import permission_table

    assert permission_table("zh_CN") in (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def test_every_verb_and_button_is_in_the_commands_doc(registry):
    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    for spec in registry.specs:
        for verb in spec.verbs:
            assert f"`{verb.usage_for('zh_CN').replace('|', chr(92) + '|')}`" in text, verb.usage_for("zh_CN")
    for name in registry.actions:
        assert f"`{name}`" in text, name


def test_the_settings_table_lists_exactly_what_the_code_reads():
    listed = {s.name for s in docgen.SETTINGS}
    read = docgen.settings_read_by_code()
    assert not read - listed, f"settings read by the code but missing from bot/docgen.py SETTINGS: {sorted(read - listed)}"
    assert not listed - read, f"settings in bot/docgen.py SETTINGS that the code never reads: {sorted(listed - read)}"


def test_setting_defaults_come_from_the_code():
    from bot.config import Settings
    from bot.faults.policy import Policy

    table = {s.name: s.default() for s in docgen.SETTINGS}
    assert table["BOT_PORT"] == str(Settings().port)
    assert table["BOT_FAULT_MERGE_MINUTES"] == str(Policy().merge_minutes)
    assert table["BOT_GROUP_MESSAGES"] == Settings().group_messages


# ---- figures: measured numbers are quoted from docs/benchmarks.md only --------------------------

MEASURED = re.compile(r"\b\d[\d,.]*\s?(?:ms|req/s|events?/s)\b|\bp(?:50|95|99)\b\s*[:=]?\s*\d|\b\d[\d,]*\s+tests\b")
SUITE = {"README.md": re.compile(r"suite takes about (\d+) minutes"),
         "dev.py": re.compile(r"test suite \(pytest; about\s+(\d+)\s+minutes"),
         "docs/benchmarks.md": re.compile(r"whole suite \| about (\d+) minutes")}
FIRST_RUN = re.compile(r"(\d+) s\b")


def test_timings_and_counts_live_in_benchmarks_md_only():
    found = {}
    for doc in DOCS + [ROOT / "bot" / "reminders" / "GRAMMAR.md"]:
        if doc.name == "benchmarks.md" or not doc.exists():
            continue
        hits = MEASURED.findall(doc.read_text(encoding="utf-8"))
        if hits:
            found[str(doc.relative_to(ROOT))] = hits
    assert not found, f"measured figures outside docs/benchmarks.md: {found}"


def test_the_suite_time_and_first_run_quoted_are_the_ones_in_benchmarks_md():
    quoted = {name: pattern.findall((ROOT / name).read_text(encoding="utf-8")) for name, pattern in SUITE.items()}
    suite = quoted["docs/benchmarks.md"]
    assert len(suite) == 1 and all(found == suite for found in quoted.values()), quoted
    bench = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    first_run = next(line for line in bench.splitlines() if "first-run set-up" in line)
    seconds = FIRST_RUN.findall(first_run)[0]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"约 {suite[0]} 分钟" in readme and f"用了 {seconds} s" in readme and f"{seconds} s on our" in readme


def test_readme_is_short_and_chinese_first():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 20_000
    first = next(line for line in text.splitlines()[1:] if line.strip())
    assert re.search(r"[\u4e00-\u9fff]", first)
    image = ROOT / "docs" / "img" / "sandbox.png"
    assert "](docs/img/sandbox.png)" in text and image.read_bytes().startswith(b"\x89PNG")
    assert image.stat().st_size < 300_000
