"""What README.md and docs/ name exists: every chat command, `liveops` sub-command and flag,
`dev.py` entry point, setting and path they mention (tests/test_help_examples.py is the model:
a statement in the docs that the code does not back is a bug)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

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
COMMAND = re.compile(r"(?:^|[\s`(（「])[/／]([\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z-]*)(?=$|[\s`)）」,，。])")


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
        elif not (ROOT / path).exists():
            missing.append(path)
    assert not missing, f"{doc.name} names paths that do not exist: {sorted(missing)}"


@pytest.mark.parametrize("doc", _docs())
def test_every_liveops_command_and_flag_named_exists(doc):
    parser = build_parser()
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    problems = []
    for span in code_spans(doc.read_text(encoding="utf-8")):
        for sub, flags in LIVEOPS.findall(span):
            if sub not in subs:
                problems.append(f"liveops {sub}")
                continue
            known = {o for a in subs[sub]._actions for o in a.option_strings}
            for flag in re.findall(r"--?[a-z][a-z-]*", flags):
                if flag not in known:
                    problems.append(f"liveops {sub} {flag}")
        for entry in DEVPY.findall(span):
            if entry not in ("run", "test", "bench", "liveops"):
                problems.append(f"dev.py {entry}")
    assert not problems, f"{doc.name} names commands or flags that do not exist: {problems}"
