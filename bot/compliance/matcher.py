"""Term matching: a character trie walked over the normalised text, then context rules.

Pipeline for one text (see ``Checker.check``):

1. ``normalize`` the text (full/half width, case, inserted spaces/emoji/punctuation, a map
   back to original offsets; clause breaks become ``\\n`` so no match spans two clauses).
2. Walk the trie from every position whose character starts some term. The trie holds
   every term, the built-in allow-list phrases and the team's exemptions. Two pattern
   tokens are allowed in a term: ``*`` = one Chinese character, ``{n}`` = a number
   (ASCII digits or Chinese numerals). A phone-number detector runs as one regex.
3. Context rules named in the term list drop a candidate or downgrade it from block to
   warn (ordinals such as 第一次, time/place/brand-limited facts, contact words that need a
   contact context, disease names that need a treatment verb, ...).
4. Allow-list phrases and exemptions suppress every candidate lying inside them.
5. Overlaps: a candidate inside a longer (or equally long, more specific) one of at least
   the same severity is dropped; partially overlapping candidates of the same category
   are merged into one hit.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
import re
from typing import Generic, Iterable, Sequence, TypeVar

from bot.compliance import phonetic
from bot.compliance.terms import (
    ALLOW, ALLOW_CATEGORY, BLOCK, CATEGORIES, DATA, EXEMPTION_KINDS, SEVERITIES, TEAM_CATEGORY, WARN, _RANK,
    CheckResult, Exemption, Hit, Term, Verdict, _as_exemption, _as_term, load_terms,
)
from bot.compliance.normalize import BREAK, Normalized, normalize, normalize_term
from bot.compliance.rules import (
    DOWNGRADE, DROP, NEGATED_COMPARISON, NUM_CHARS, RULES, TextView, _BRAND_SCOPE, _NEGATABLE, _Ctx, _has,
    _scoped,
)

__all__ = [  # with the names of bot/compliance/terms.py, which other modules import from here
    "ALLOW", "ALLOW_CATEGORY", "BLOCK", "CATEGORIES", "DATA", "EXEMPTION_KINDS", "RULES", "SEVERITIES",
    "TEAM_CATEGORY", "WARN", "CheckResult", "Checker", "Exemption", "Hit", "Term", "Verdict", "check", "load_terms",
]

_NUM = "\x00n"   # trie key for the {n} token (\x00 never survives normalisation)
_HAN = "\x00h"   # trie key for the * token
_END = "\x00e"   # trie key holding the entries that end at a node


def _tokens(term: str) -> list[str]:
    """Split a term into trie keys: normalised characters, _NUM and _HAN tokens."""
    out: list[str] = []
    for piece in re.split(r"(\{n\}|\*)", term):
        if piece == "{n}":
            out.append(_NUM)
        elif piece == "*":
            out.append(_HAN)
        elif piece:
            out.extend(normalize_term(piece))
    return out





_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# "V：abc123", "vx: lm_2024", "Q：12345678": a contact prefix, a colon, an account id. Runs on
# the original text (normalisation drops the colon that makes this recognisable).
_CONTACT_ID = re.compile(
    r"(?i)(?<![a-z0-9])(?:v|vx|wx|q|qq|wechat|weixin|微信?|薇|威|扣扣?)(?:号)?\s*[:：]\s*"
    r"[a-z0-9][a-z0-9_\-]{4,}")
_CONTACT_ID_TERM = Term("账号：xxx", "导流/私单", BLOCK,
                        "《网络直播营销管理办法（试行）》；平台规则禁止站外导流",
                        "公布站外联系账号，引导站外联系", ("通过平台私信/客服沟通",))
_PHONE_TERM = Term("手机号码", "导流/私单", BLOCK,
                   "《网络直播营销管理办法（试行）》；平台规则禁止站外导流",
                   "在直播中公布手机号码，引导站外联系", ("通过平台私信/客服沟通",))
_NEGATED_TERM = Term("没有比…更…", "绝对化", BLOCK, "《广告法》第九条第三项",
                     "以否定的比较表达最高级（没有比这更好的），等同绝对化用语", ("很好", "口碑很好"))
# Allow-list rows whose reason says so are titles that are legal only when true: reported as
# 建议改 with this note instead of passing silently.
MUST_BE_TRUE = "需属实"
VERIFY_NOTE = "需属实，请核对资质"
SOUND_NOTE = "谐音/拼音写法，读作「{reading}」"
# Categories whose terms a denial in front cancels (不是最便宜的).
_ABSOLUTE_CATEGORIES = ("绝对化", "价格违规")


# --------------------------------------------------------------------------- checker

@dataclass(frozen=True)
class _Entry:
    term: Term
    exemption: Exemption | None = None


@dataclass
class _Cand:
    start: int
    end: int
    entry: _Entry
    severity: str
    note: str = ""
    kind: str = ""


class Checker:
    """A compiled term list plus a team's own terms and exemptions."""

    def __init__(self, terms: Iterable[Term], extra_terms: Iterable[Term | str] = (),
                 exemptions: Iterable[Exemption | tuple[str, str] | str] = ()) -> None:
        merged: dict[tuple[tuple[str, ...], str], Term] = {}
        for t in list(terms) + [_as_term(x) for x in extra_terms]:
            self._validate(t)
            key = (tuple(_tokens(t.term)), ALLOW if t.severity == ALLOW else "")
            merged[key] = t  # later (team) entries override defaults with the same text
        self.terms: tuple[Term, ...] = tuple(merged.values())
        self.exemptions: tuple[Exemption, ...] = tuple(_as_exemption(e) for e in exemptions)
        self._root: dict = {}
        self._sound = phonetic.Index()
        sound_ok = phonetic.available()
        for t in self.terms:
            entry = _Entry(t)
            self._insert(_tokens(t.term), entry)
            if sound_ok and t.severity != ALLOW and not t.is_pattern:
                self._sound.add(normalize_term(t.term), entry)
        for ex in self.exemptions:
            allow = Term(ex.phrase, ALLOW_CATEGORY, ALLOW, reason=f"团队豁免：{ex.kind}")
            self._insert(list(normalize_term(ex.phrase)), _Entry(allow, ex))

    # -- construction
    @staticmethod
    def _validate(t: Term) -> None:
        if t.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}: {t.term!r} {t.severity!r}")
        if not t.category:
            raise ValueError(f"term without a category: {t.term!r}")
        for name in _rule_names(t):
            if name not in RULES:
                raise ValueError(f"unknown context rule {name!r} for {t.term!r}")
        toks = _tokens(t.term)
        if not toks or toks[0] == _HAN:
            raise ValueError(f"term must start with a character or {{n}}: {t.term!r}")

    def _insert(self, tokens: Sequence[str], entry: _Entry) -> None:
        node = self._root
        for tok in tokens:
            node = node.setdefault(tok, {})
        node.setdefault(_END, []).append(entry)

    @classmethod
    def from_csv(cls, path: Path | str, extra_terms: Iterable[Term | str] = (),
                 exemptions: Iterable[Exemption | tuple[str, str] | str] = ()) -> "Checker":
        return cls(load_terms(path), extra_terms, exemptions)

    @classmethod
    def load_default(cls) -> "Checker":
        """The project's term list (cached; the Checker is immutable once built)."""
        return _default_checker()

    def with_team(self, extra_terms: Iterable[Term | str] = (),
                  exemptions: Iterable[Exemption | tuple[str, str] | str] = ()) -> "Checker":
        """A new checker: this one's terms and exemptions plus a team's own."""
        return Checker(self.terms, extra_terms, list(self.exemptions) + list(exemptions))

    # -- matching
    def _candidates(self, text: str) -> list[tuple[int, int, _Entry]]:
        root = self._root
        root_num = root.get(_NUM)
        out: list[tuple[int, int, _Entry]] = []
        n = len(text)
        walk = self._walk
        prev = ""
        for i, ch in enumerate(text):
            node = root.get(ch)
            if node is not None:
                walk(text, n, i + 1, node, i, out)
            if root_num is not None and ch in NUM_CHARS and prev not in NUM_CHARS:
                j = i + 1
                while j < n and text[j] in NUM_CHARS:
                    j += 1
                walk(text, n, j, root_num, i, out)
            prev = ch
        return out

    def _walk(self, text: str, n: int, i: int, node: dict, start: int,
              out: list[tuple[int, int, _Entry]]) -> None:
        ends = node.get(_END)
        if ends:
            for e in ends:
                out.append((start, i, e))
        if i >= n:
            return
        ch = text[i]
        nxt = node.get(ch)
        if nxt is not None:
            self._walk(text, n, i + 1, nxt, start, out)
        sub = node.get(_NUM)
        if sub is not None and ch in NUM_CHARS:
            j = i + 1
            while j < n and text[j] in NUM_CHARS:
                j += 1
            self._walk(text, n, j, sub, start, out)
        sub = node.get(_HAN)
        if sub is not None and "\u4e00" <= ch <= "\u9fff":
            self._walk(text, n, i + 1, sub, start, out)

    def check(self, text: str) -> CheckResult:
        norm = normalize(text)
        t = norm.text
        raw = self._candidates(t)
        raw.extend((m.start(), m.end(), _Entry(_PHONE_TERM)) for m in _PHONE.finditer(t))
        raw.extend((m.start(), m.end(), _Entry(_NEGATED_TERM)) for m in NEGATED_COMPARISON.finditer(t))
        for m in _CONTACT_ID.finditer(text):
            s0 = bisect.bisect_left(norm.offsets, m.start())
            e0 = bisect.bisect_left(norm.offsets, m.end())
            if s0 < e0:
                raw.append((s0, e0, _Entry(_CONTACT_ID_TERM)))

        allows: list[tuple[int, int, _Entry]] = []
        cands: list[_Cand] = []
        for s, e, entry in raw:
            term = entry.term
            if term.severity == ALLOW:
                allows.append((s, e, entry))
                continue
            if not _ascii_boundary_ok(norm, s, e):
                continue
            cand = _apply_rules(t, s, e, _Cand(s, e, entry, term.severity))
            if cand is not None:
                cands.append(cand)
        cands.extend(self._sound_alikes(t))

        allow_index: _Spans[tuple[int, int, _Entry]] = _Spans()
        for s0, e0, entry in allows:
            allow_index.add(s0, e0, (s0, e0, entry))
        kept: list[_Cand] = []
        exempted: list[_Cand] = []
        verify: dict[tuple[int, int], _Cand] = {}
        for c in cands:
            cover = allow_index.covering(c.start, c.end)
            if cover is None:
                kept.append(c)
                continue
            s0, e0, allow = cover
            if allow.exemption is not None:
                ex = allow.exemption
                c.note = f"已豁免（{ex.kind}：{ex.phrase}）"
                exempted.append(c)
            elif MUST_BE_TRUE in allow.term.reason and (s0, e0) not in verify:
                verify[(s0, e0)] = _verify_cand(s0, e0, allow.term, c.entry.term)
        kept = _resolve_overlaps(kept) + list(verify.values())

        lines = _LineIndex(text)
        hits = [_to_hit(norm, lines, c) for c in kept]
        hits.sort(key=lambda h: (h.start, -h.end))
        ex_hits = [_to_hit(norm, lines, c) for c in _resolve_overlaps(exempted)]
        n_block = sum(h.severity == BLOCK for h in hits)
        n_warn = len(hits) - n_block
        verdict = Verdict.BLOCK if n_block else Verdict.WARN if n_warn else Verdict.PASS
        by_cat: dict[str, int] = {}
        for h in hits:
            by_cat[h.category] = by_cat.get(h.category, 0) + 1
        return CheckResult(text=text, hits=hits, verdict=verdict,
                           counts={"block": n_block, "warn": n_warn, "total": len(hits)},
                           by_category=by_cat, exempted=ex_hits)


    def _sound_alikes(self, t: str) -> list[_Cand]:
        """Pinyin and homophone spellings of terms (see phonetic.py), checked by the same
        context rules on a copy of the clause in which the term stands in for its spelling."""
        out: list[_Cand] = []
        seen: set[tuple[int, int, int]] = set()
        for m in self._sound.matches(t):
            entry: _Entry = m.payload  # type: ignore[assignment]
            key = (m.start, m.end, id(entry))
            if key in seen:
                continue
            seen.add(key)
            term = entry.term
            verdict = phonetic.accept(m, t, term.category, _rule_names(term))
            if verdict is None:
                continue
            a, b = _neighbourhood(t, m.start, m.end)
            view = t[a:m.start] + m.reading + t[m.end:b]
            s, e = m.start - a, m.start - a + len(m.reading)
            cand = _Cand(m.start, m.end, entry, term.severity, kind="sound")
            extra = ("contact_adjacent",) if verdict == phonetic.NEEDS_CONTACT else ()
            kept = _apply_rules(view, s, e, cand, extra)
            if kept is not None:
                kept.note = kept.note or SOUND_NOTE.format(reading=m.reading)
                out.append(kept)
        return out


def _neighbourhood(t: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the clause around ``[start, end)`` and the clauses either side of it."""
    cs = t.rfind(BREAK, 0, start)
    a = t.rfind(BREAK, 0, cs) + 1 if cs > 0 else 0
    ce = t.find(BREAK, end)
    b = -1 if ce < 0 else t.find(BREAK, ce + 1)
    return a, len(t) if b < 0 else b


def _verify_cand(start: int, end: int, allow: Term, covered: Term) -> _Cand:
    """建议改：需属实 — an allowed official title (国家级非遗) reported for checking."""
    term = Term(allow.term, covered.category, WARN, covered.basis, f"{allow.reason}：可以使用，但必须属实")
    return _Cand(start, end, _Entry(term), WARN, note=VERIFY_NOTE, kind="verify")


@lru_cache(maxsize=1)
def _default_checker() -> Checker:
    return Checker(load_terms(DATA))


def check(text: str, checker: Checker | None = None) -> CheckResult:
    """Check a script text against ``checker`` (default: the project's term list)."""
    return (checker or Checker.load_default()).check(text)


# --------------------------------------------------------------------------- helpers

def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _ascii_boundary_ok(norm: Normalized, s: int, e: int) -> bool:
    """An ASCII term (vx, qq, top1, 100%) must not sit inside a longer ASCII word/number."""
    t = norm.text
    src = norm.source
    first, last = t[s], t[e - 1]
    if _is_ascii_alnum(first):
        o = norm.offsets[s]
        before = src[o - 1] if o > 0 else ""
        if before and before.isascii() and (before.isalpha() if first.isalpha() else before.isdigit()):
            return False
    if _is_ascii_alnum(last):
        o = norm.offsets[e - 1] + 1
        after = src[o] if o < len(src) else ""
        if after and after.isascii() and (after.isalpha() if last.isalpha() else after.isdigit()):
            return False
    return True


def _rule_names(term: Term) -> list[str]:
    """A term's context rules: the ``rule`` column may name several, joined by ``+``."""
    return list(_split_rules(term.rule))


@lru_cache(maxsize=256)
def _split_rules(rule: str) -> tuple[str, ...]:
    return tuple(r for r in rule.split("+") if r)


_COMPARATIVE = ("最", "第一")


def _apply_rules(t: str, start: int, end: int, cand: _Cand, extra: Sequence[str] = ()) -> _Cand | None:
    """Run the term's context rules on ``t`` (the normalised text, or a patched clause view)
    where the candidate is ``t[start:end]``; None when a rule drops it."""
    cs = t.rfind(BREAK, 0, start) + 1
    ce = t.find(BREAK, end)
    ctx = _Ctx(TextView(t), start, end, cs, len(t) if ce < 0 else ce, cand.entry.term)
    term = cand.entry.term
    names = _rule_names(term) + list(extra)
    if term.category in _NEGATABLE and "negation" not in names:
        names.append("negation")
    if term.category in _ABSOLUTE_CATEGORIES and term is not _NEGATED_TERM:
        names.append("negated_absolute")
    for name in names:
        action = RULES[name](ctx)
        if action == DROP:
            return None
        if action == DOWNGRADE and cand.severity == BLOCK:
            cand.severity = WARN
            cand.note = "限定时间/范围或品牌内比较，需有依据，降为建议改"
    # same-brand comparison (我们家最好的一款): exempt in law, but unverifiable here -> warn
    if (term.category == "绝对化" and cand.severity == BLOCK
            and _has(t[start:end], _COMPARATIVE) and _scoped(ctx, _BRAND_SCOPE)):
        cand.severity = WARN
        cand.note = "品牌内/本店范围内比较，需有依据，降为建议改"
    return cand


def _prefer(a: _Cand, b: _Cand) -> bool:
    """True if ``a`` should win over ``b`` when two hits are merged."""
    ka = (_RANK[a.severity], a.end - a.start, not a.entry.term.is_pattern)
    kb = (_RANK[b.severity], b.end - b.start, not b.entry.term.is_pattern)
    return ka > kb


def _resolve_overlaps(cands: list[_Cand]) -> list[_Cand]:
    # strongest first: severity, then length, then literal before pattern
    order = sorted(cands, key=lambda c: (-_RANK[c.severity], -(c.end - c.start),
                                         c.entry.term.is_pattern, c.start))
    out: list[_Cand] = []
    index: _Spans[_Cand] = _Spans()
    for c in order:
        # everything kept so far is at least as severe: drop c if it lies inside one of them
        if index.covering(c.start, c.end) is not None:
            continue
        out.append(c)
        index.add(c.start, c.end, c)
    # merge partial overlaps within one category into a single hit
    out.sort(key=lambda c: (c.start, c.end))
    merged: list[_Cand] = []
    for c in out:
        prev = merged[-1] if merged else None
        if prev and c.start < prev.end and c.entry.term.category == prev.entry.term.category:
            winner = prev if _prefer(prev, c) else c
            merged[-1] = replace(winner, start=prev.start, end=max(prev.end, c.end))
        else:
            merged.append(c)
    return merged


T = TypeVar("T")


class _Spans(Generic[T]):
    """Intervals bucketed by start, to find one covering [s, e) without a full scan."""

    def __init__(self) -> None:
        self._by_start: dict[int, list[tuple[int, T]]] = {}
        self._longest = 0

    def add(self, start: int, end: int, item: T) -> None:
        self._by_start.setdefault(start, []).append((end, item))
        self._longest = max(self._longest, end - start)

    def covering(self, start: int, end: int) -> T | None:
        for s in range(start, start - self._longest - 1, -1):
            for e, item in self._by_start.get(s, ()):
                if e >= end:
                    return item
        return None


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line_text(self, line: int) -> tuple[int, str]:
        a = self.starts[line - 1]
        b = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return a, self.text[a:b]


CONTEXT_CHARS = 24


def _to_hit(norm: Normalized, lines: _LineIndex, c: _Cand) -> Hit:
    start, end = norm.span(c.start, c.end)
    line = lines.line_of(start)
    a, text = lines.line_text(line)
    lo = max(0, start - a - CONTEXT_CHARS)
    hi = min(len(text), end - a + CONTEXT_CHARS)
    context = ("…" if lo > 0 else "") + text[lo:hi].strip("\r") + ("…" if hi < len(text) else "")
    t = c.entry.term
    return Hit(term=t.term, matched=norm.source[start:end], start=start, end=end, line=line,
               category=t.category, severity=c.severity, basis=t.basis, reason=t.reason,
               suggestions=t.suggestions, context=context, note=c.note, kind=c.kind)
