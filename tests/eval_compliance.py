"""Evaluate the script compliance checker on tests/data/compliance_labelled.csv.

Run:  .venv/bin/python -m tests.eval_compliance [--errors] [--data tests/data/other.csv]

Prints precision/recall for "is a violation" (any hit, block or warn) overall and per
category (one category vs the rest, over every row), severity agreement on the rows that
were caught, and with --errors every row it got wrong.

How the labelled set was built (the `note` column starts with the batch):
* "b1" rows (270) were written before the term list and the matcher existed; the term
  list and rules were then written and tuned against them (by kind of mistake: new
  vocabulary, context rules, allow-list entries, never a rule keyed to one sentence);
* "round2", "round3", "round4" rows were each written fresh after the previous tuning,
  measured once, then tuned on. Measured before tuning, "is a violation" scored:
  round2 (96 rows) precision 0.895 / recall 0.548, round3 (108 rows) 0.933 / 0.431,
  round4 (101 rows) 1.000 / 0.492;
* "holdout" rows (80, round 5) were written after all tuning and have never been tuned
  on: they are the honest estimate for unseen lines (precision 0.900 / recall 0.614 when
  written) and are reported on their own. Do not tune on them; write a new batch instead.
Issue 15 added pinyin/homophone matching, negated absolutes, private-deal lures and the
"建议改：需属实" outcome; a new holdout (tests/data/compliance_holdout2.csv, 120 rows) was
written after those changes and measured once (figures in docs/compliance.md).

A "需属实" hit (kind "verify": an allowed official title such as 国家级非遗 that must be true)
is not counted as a violation: the labelled sets mark those lines "ok" (legal when true).

The set is evaluated with a checker that declares the exemptions a team would (the
product names used in the set), see EVAL_EXEMPTIONS.
tests/test_compliance.py asserts the targets with the same code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import csv
from pathlib import Path
import sys

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.compliance import CATEGORIES, Checker, Exemption, check  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "compliance_labelled.csv"

# What a team would declare for the products in the labelled set.
EVAL_EXEMPTIONS = [
    Exemption("至尊礼盒", "商品名"),
    Exemption("极品乌龙", "商标"),
    Exemption("至尊宝", "商品名"),
]

TARGET_PRECISION = 0.9
TARGET_RECALL = 0.9


@dataclass(frozen=True)
class Row:
    text: str
    expected: tuple[str, ...]   # categories, empty for "ok"
    severity: str               # block | warn | "" for ok
    note: str

    @property
    def is_violation(self) -> bool:
        return bool(self.expected)

    @property
    def batch(self) -> str:
        return self.note.split(" ", 1)[0] if self.note else ""


@dataclass(frozen=True)
class Outcome:
    row: Row
    categories: frozenset[str]
    severity: str               # block | warn | "" (verdict)
    hits: tuple[str, ...]       # "matched→term/category/severity" for --errors

    @property
    def predicted(self) -> bool:
        return bool(self.categories)

    @property
    def correct(self) -> bool:
        if self.row.is_violation != self.predicted:
            return False
        return all(c in self.categories for c in self.row.expected)


@dataclass
class PR:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    rows: int = 0
    overall: PR = field(default_factory=PR)
    per_category: dict[str, PR] = field(default_factory=dict)
    per_batch: dict[str, PR] = field(default_factory=dict)
    severity_agree: int = 0
    severity_total: int = 0
    errors: list[Outcome] = field(default_factory=list)


def load_rows(path: Path = DATA) -> list[Row]:
    rows: list[Row] = []
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            exp = r["expected"].strip()
            cats = () if exp == "ok" else tuple(c.strip() for c in exp.split("|") if c.strip())
            rows.append(Row(r["text"], cats, r["severity"].strip(), r["note"].strip()))
    return rows


def default_eval_checker() -> Checker:
    return Checker.load_default().with_team(exemptions=EVAL_EXEMPTIONS)


def run(rows: list[Row], checker: Checker | None = None) -> list[Outcome]:
    checker = checker or default_eval_checker()
    out: list[Outcome] = []
    for row in rows:
        res = check(row.text, checker)
        found = [h for h in res.hits if h.kind != "verify"]
        cats = frozenset(h.category for h in found)
        sev = "block" if any(h.severity == "block" for h in found) else "warn" if found else ""
        hits = tuple(f"{h.matched}→{h.term}/{h.category}/{h.severity}{'/' + h.kind if h.kind else ''}"
                     for h in res.hits)
        out.append(Outcome(row, cats, sev, hits))
    return out


def _count(pr: PR, expected: bool, predicted: bool) -> None:
    if expected and predicted:
        pr.tp += 1
    elif predicted:
        pr.fp += 1
    elif expected:
        pr.fn += 1


def evaluate(rows: list[Row] | None = None, checker: Checker | None = None) -> Report:
    rows = load_rows() if rows is None else rows
    outcomes = run(rows, checker)
    rep = Report(rows=len(rows))
    cats = list(CATEGORIES)
    for o in outcomes:
        for c in o.categories:
            if c not in cats:
                cats.append(c)
    rep.per_category = {c: PR() for c in cats}
    for o in outcomes:
        _count(rep.overall, o.row.is_violation, o.predicted)
        _count(rep.per_batch.setdefault(o.row.batch, PR()), o.row.is_violation, o.predicted)
        for c in cats:
            _count(rep.per_category[c], c in o.row.expected, c in o.categories)
        if o.row.is_violation and o.predicted and o.row.severity:
            rep.severity_total += 1
            rep.severity_agree += o.row.severity == o.severity
        if not o.correct:
            rep.errors.append(o)
    return rep


def format_report(rep: Report, errors: bool = False) -> str:
    lines = [f"rows: {rep.rows}", "", f"{'category':<12} {'support':>7} {'precision':>9} {'recall':>7}"]
    for c, pr in rep.per_category.items():
        support = pr.tp + pr.fn
        if support == 0 and pr.fp == 0:
            continue
        lines.append(f"{c:<12} {support:>7} {pr.precision:>9.3f} {pr.recall:>7.3f}")
    o = rep.overall
    lines += ["", f"is a violation (overall): precision {o.precision:.3f}  recall {o.recall:.3f}"
                  f"  (tp {o.tp}, fp {o.fp}, fn {o.fn})"]
    for b, pr in sorted(rep.per_batch.items()):
        lines.append(f"  batch {b:<8} precision {pr.precision:.3f}  recall {pr.recall:.3f}"
                     f"  (tp {pr.tp}, fp {pr.fp}, fn {pr.fn})")
    if rep.severity_total:
        lines.append(f"severity agreement on caught violations: {rep.severity_agree}/"
                     f"{rep.severity_total} = {rep.severity_agree / rep.severity_total:.3f}")
    lines.append(f"rows with a wrong decision or a missed category: {len(rep.errors)}")
    if errors:
        lines.append("")
        for e in rep.errors:
            exp = "|".join(e.row.expected) or "ok"
            got = ",".join(sorted(e.categories)) or "ok"
            lines.append(f"[{e.row.note}] expected {exp} got {got}: {e.row.text}  {list(e.hits)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[argv.index("--data") + 1]) if "--data" in argv else DATA
    print(format_report(evaluate(load_rows(path)), errors="--errors" in argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
