"""Benchmark the compliance checker on a 20,000-character script.

Run:  .venv/bin/python -m tests.bench.bench_compliance [--chars 20000] [--repeat 5]

Prints, for the same script in the same run:
* checker:  full ``check()`` (normalise, trie walk, rules, overlaps, hits with line/context);
* baseline: a naive loop of ``str.find`` for every literal term over the normalised text
  (finds raw occurrences only: no patterns, rules, exemptions or offsets back to the source);
and the ratio baseline / checker. Best of ``--repeat`` runs; the default checker is built
(and cached) before timing.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.compliance import Checker, check  # noqa: E402
from bot.compliance.normalize import normalize, normalize_term  # noqa: E402
from tests.eval_compliance import load_rows  # noqa: E402


def make_script(chars: int) -> str:
    """A script of about ``chars`` characters built from the labelled sentences (about
    60% of them violate something) with some neutral filler lines in between."""
    sentences = [r.text for r in load_rows()]
    filler = "家人们我们继续往下看，这个面料摸起来很舒服，颜色也很好搭配"
    out: list[str] = []
    size = 0
    i = 0
    while size < chars:
        line = sentences[i % len(sentences)] if i % 3 else filler
        out.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(out)[:chars]


def naive_baseline(text: str, terms: list[str]) -> int:
    norm = normalize(text).text
    found = 0
    for term in terms:
        pos = norm.find(term)
        while pos >= 0:
            found += 1
            pos = norm.find(term, pos + 1)
    return found


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chars", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    checker = Checker.load_default()
    build = time.perf_counter() - t0
    script = make_script(args.chars)
    literal = sorted({normalize_term(t.term) for t in checker.terms
                      if not t.is_pattern and t.severity != "allow"} - {""})

    result = check(script, checker)
    t_check = best_of(lambda: check(script, checker), args.repeat)
    t_norm = best_of(lambda: normalize(script), args.repeat)
    t_base = best_of(lambda: naive_baseline(script, literal), args.repeat)

    print(f"script: {len(script)} chars, {script.count(chr(10)) + 1} lines; "
          f"{len(checker.terms)} list entries ({len(literal)} literal terms in the baseline)")
    print(f"build default checker (once, cached): {build * 1000:.1f} ms")
    print(f"checker  check():              {t_check * 1000:8.1f} ms  "
          f"({len(result.hits)} hits, verdict {result.verdict.value})")
    print(f"  of which normalise():        {t_norm * 1000:8.1f} ms")
    print(f"baseline str.find every term:  {t_base * 1000:8.1f} ms  "
          f"(raw occurrences {naive_baseline(script, literal)})")
    print(f"ratio baseline / checker:      {t_base / t_check:8.2f}x")
    clean = "\n".join(["家人们我们继续往下看，这个面料摸起来很舒服，颜色也很好搭配"] * 700)[:args.chars]
    t_clean = best_of(lambda: check(clean, checker), args.repeat)
    t_clean_base = best_of(lambda: naive_baseline(clean, literal), args.repeat)
    print(f"clean {len(clean)}-char script (no hits): checker {t_clean * 1000:.1f} ms, "
          f"baseline {t_clean_base * 1000:.1f} ms, ratio {t_clean_base / t_clean:.2f}x")
    print("RESULT " + json.dumps({"bench": "compliance", "figures": [
        {"name": f"check() of a {len(script)}-char script", "value": round(t_check * 1000, 1), "unit": "ms",
         "target": "≤ 1000", "ok": t_check <= 1.0},
        {"name": "naive str.find per term ÷ check()", "value": round(t_base / t_check, 2), "unit": "×",
         "target": None, "ok": None},
    ]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
