"""Atoms next to each other form a *cluster*; the best cluster is the time expression.

Atoms separated only by spaces or connecting words ("的", "at", "从"…) join a cluster, except
a day word after an expression that already says which day(s) ("每周六 10:00 周六例会": the
second 周六 is text). :func:`span` widens the chosen cluster by its lead-in and trailing words
("在", "by", "前", "起"); :func:`rest` is the text around it (the reminder message).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.timeparse.atoms import _Atom


_GAP = re.compile(r"^[\s,、]*(?:(?:的|在|于|於|从|從|自|起|开始|開始|at|on|from|of|the|starting|and|,)[\s,、]*)*$")
_RANGE_SEP = re.compile(r"^\s*(?:到|至|~|〜|-|–|—|to|until|till|and|through)\s*$")
_WEIGHT = {"RECUR": 8, "OFFSET": 6, "WITHIN": 6, "RANGE": 5, "TIME": 4, "DATE": 2, "MDAY": 2, "DAY": 2,
           "WEEKDAY": 2, "MONTHEND": 2, "YEAREND": 2, "WEEKEND": 2, "PERIOD": 1}


@dataclass
class _Cluster:
    atoms: list[_Atom] = field(default_factory=list)
    links: set[int] = field(default_factory=set)  # i: atoms[i] and atoms[i+1] form a range

    @property
    def start(self) -> int:
        return self.atoms[0].start

    @property
    def end(self) -> int:
        return self.atoms[-1].end

    @property
    def score(self) -> int:
        return sum(_WEIGHT.get(a.kind, 1) for a in self.atoms)

    def kinds(self) -> set[str]:
        return {a.kind for a in self.atoms}


_DAYISH = ("DAY", "WEEKDAY", "DATE", "MDAY")


def _complete(cluster: _Cluster, atom: _Atom) -> bool:
    """Does ``cluster`` already say which day(s), so that a day word after it belongs to the
    text? "每周六 10:00 周六例会": the rule names Saturday; "明天 10:00 明天的会": a day and a
    clock time. (A day followed by another day, "12月1日 周二", stays one expression.)"""
    if atom.kind not in _DAYISH:
        return False
    if any(a.kind == "RECUR" and a.data.get("kind") in ("weekly", "monthly") for a in cluster.atoms):
        return True
    kinds = cluster.kinds()
    return bool(kinds & set(_DAYISH)) and bool(kinds & {"TIME", "RANGE"})


def _clusters(norm: str, atoms: list[_Atom]) -> list[_Cluster]:
    out: list[_Cluster] = []
    current: _Cluster | None = None
    for atom in atoms:
        if current is not None:
            prev = current.atoms[-1]
            gap = norm[prev.end:atom.start]
            if prev.kind == "TIME" and atom.kind in ("TIME", "PERIOD") and _RANGE_SEP.match(gap):
                current.links.add(len(current.atoms) - 1)
                current.atoms.append(atom)
                continue
            if _GAP.match(gap) and "\n" not in gap and not _complete(current, atom):
                current.atoms.append(atom)
                continue
        current = _Cluster([atom])
        out.append(current)
    return out


_ZAI = r"(?<![现現正存所实實好还還都内外自])在"  # 在 as "at", not inside 现在/正在/存在…
_LEAD_REMIND = re.compile(rf"(?:(?<![a-z])(?:at|on|from|starting)|现在|現在|{_ZAI}|于|於|从|從|自)\s*$")
_LEAD_DEADLINE = re.compile(r"(?:(?<![a-z])(?:by|before|due\s+by|due|no\s+later\s+than|until|till|on|at)"
                            rf"|截止到|截止|截至|最晚|最迟|最遲|不晚于|不迟于|{_ZAI}|于|於)\s*$")
_TRAIL_RECUR = re.compile(r"\s*(?:起|开始|開始)")
_TRAIL_DEADLINE = re.compile(r"\s*(?:之前|以前|前|之内|以内|内|內|为止|為止|截止)")


def _span(norm: str, cluster: _Cluster, mode: str) -> tuple[int, int]:
    start, end = cluster.start, cluster.end
    lead = _LEAD_DEADLINE if mode == "deadline" else _LEAD_REMIND
    m = lead.search(norm[:start])
    if m:
        start = m.start()
    trail = _TRAIL_DEADLINE if mode == "deadline" else (_TRAIL_RECUR if "RECUR" in cluster.kinds() else None)
    if trail is not None:
        t = trail.match(norm, end)
        if t:
            end = t.end()
    return start, end


# ---------------------------------------------------------------------------------------
# Rest text
# ---------------------------------------------------------------------------------------
_CMD = re.compile(r"\s*/\S+\s*")
_FILLER_BEFORE = re.compile(r"\s*(?:请|麻烦|請)?(?:提醒我们|提醒我們|提醒我|提醒一下|叫我|通知我|提醒(?=\s)|"
                            r"remind\s+(?:me|us|everyone|all)\s+(?:to\s+|that\s+|about\s+)?|remind\s+)")
_FILLER_AFTER = re.compile(r"\s*(?:的(?!确|確)|提醒我们|提醒我們|提醒我|叫我|通知我|to\s+|that\s+|about\s+)")
_EDGE = set(" \t\r\n,.:;!、-—~。")


def _trim(norm: str, a: int, b: int) -> tuple[int, int]:
    while a < b and (norm[a] in _EDGE or norm[a].isspace()):
        a += 1
    while b > a and (norm[b - 1] in _EDGE or norm[b - 1].isspace()):
        b -= 1
    return a, b


def _rest(text: str, norm: str, start: int, end: int) -> str:
    """The text around the expression, less a leading /command and "提醒我"-style filler.
    Regexes run on the normalised text; the original characters are returned."""
    pos = 0
    m = _CMD.match(norm, 0, start)
    if m:
        pos = m.end()
    m = _FILLER_BEFORE.match(norm, pos, start)
    if m:
        pos = m.end()
    a, b = _trim(norm, pos, start)
    before = text[a:b]
    a, _ = _trim(norm, end, len(norm))
    m = _FILLER_AFTER.match(norm, a)
    if m:
        a = m.end()
    a, b = _trim(norm, a, len(norm))
    after = text[a:b]
    if before and after:
        return f"{before} {after}"
    return before or after
