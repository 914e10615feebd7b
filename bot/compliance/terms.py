"""The compliance checker's data: terms, exemptions, hits, results, and reading the term list.

Split from matcher.py (which re-exports every name here) to keep modules small.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from bot.compliance.normalize import normalize_term

DATA = Path(__file__).resolve().parent / "terms.csv"

BLOCK = "block"
WARN = "warn"
ALLOW = "allow"
SEVERITIES = (BLOCK, WARN, ALLOW)
_RANK = {BLOCK: 2, WARN: 1, ALLOW: 0}

CATEGORIES = (
    "绝对化", "权威背书", "医疗用语", "功效夸大", "虚假承诺", "诱导", "导流/私单", "迷信",
    "虚假数据", "价格违规", "未成年人", "贬低竞品",
)
TEAM_CATEGORY = "团队自定义"
ALLOW_CATEGORY = "白名单"

EXEMPTION_KINDS = ("商品名", "商标", "品牌内比较", "用法提示", "其他")



class Verdict(str, Enum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"

    def label(self, locale: str = "zh_CN") -> str:
        zh, en = _VERDICT_LABELS[self.value]
        return en if locale == "en_US" else zh


_VERDICT_LABELS = {"pass": ("通过", "Pass"), "warn": ("建议修改", "Changes suggested"),
                   "block": ("必须修改", "Must change")}


@dataclass(frozen=True)
class Term:
    """One row of the term list. ``severity`` is block, warn or allow (allow-list phrase)."""

    term: str
    category: str = TEAM_CATEGORY
    severity: str = WARN
    basis: str = ""
    reason: str = ""
    suggestions: tuple[str, ...] = ()
    rule: str = ""

    @property
    def is_pattern(self) -> bool:
        return "*" in self.term or "{n}" in self.term


@dataclass(frozen=True)
class Exemption:
    """A team-declared phrase whose terms are not reported (e.g. a product name)."""

    phrase: str
    kind: str = "其他"


@dataclass(frozen=True)
class Hit:
    term: str            # the list entry that matched (e.g. "最好", "{n}天见效")
    matched: str         # the original text, including any inserted spaces/emoji
    start: int           # original offsets, [start, end)
    end: int
    line: int            # 1-based line of ``start``
    category: str
    severity: str        # block | warn
    basis: str
    reason: str
    suggestions: tuple[str, ...]
    context: str         # the original line around the hit
    note: str = ""       # e.g. why a block was downgraded, or which exemption applied
    kind: str = ""       # "" a listed term; "sound" a pinyin/homophone spelling of one;
                         # "verify" an allowed title that must be true (国家级非遗)


@dataclass(frozen=True)
class CheckResult:
    text: str
    hits: list[Hit]
    verdict: Verdict
    counts: dict[str, int]                 # block, warn, total
    by_category: dict[str, int]
    exempted: list[Hit] = field(default_factory=list)


# --------------------------------------------------------------------------- loading

def load_terms(path: Path | str = DATA) -> list[Term]:
    """Read a term list CSV (term, category, severity, basis, reason, suggestions, rule)."""
    terms: list[Term] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if not (row.get("term") or "").strip():
                continue
            terms.append(Term(
                term=row["term"].strip(),
                category=(row.get("category") or "").strip(),
                severity=(row.get("severity") or "").strip(),
                basis=(row.get("basis") or "").strip(),
                reason=(row.get("reason") or "").strip(),
                suggestions=tuple(s.strip() for s in (row.get("suggestions") or "").split("|")
                                  if s.strip()),
                rule=(row.get("rule") or "").strip(),
            ))
    return terms


def _as_term(item: Term | str) -> Term:
    if isinstance(item, Term):
        return item
    return Term(term=str(item), category=TEAM_CATEGORY, severity=WARN, basis="团队规则",
                reason="团队自定义敏感词")


def _as_exemption(item: Exemption | tuple[str, str] | str) -> Exemption:
    if isinstance(item, Exemption):
        ex = item
    elif isinstance(item, str):
        ex = Exemption(item, "其他")
    else:
        ex = Exemption(item[0], item[1])
    if ex.kind not in EXEMPTION_KINDS:
        raise ValueError(f"exemption kind must be one of {EXEMPTION_KINDS}: {ex.kind!r}")
    if not normalize_term(ex.phrase):
        raise ValueError(f"empty exemption phrase: {ex.phrase!r}")
    return ex
