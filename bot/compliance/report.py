"""Render a CheckResult as Feishu card markdown (zh_CN or en_US).

Hits are shown grouped by line, highlighted in their context (red = block/必改,
orange = warn/建议改), each followed by its category, severity, legal basis and suggested
rewording. Everything that comes from the user (the script, team terms and exemptions) is
escaped so it cannot inject card markdown. The output stays under ``MAX_BYTES``; hits that
do not fit (or beyond ``max_hits``) are counted in a "还有 N 处未显示" line.
"""
from __future__ import annotations

from typing import Sequence

from bot.compliance.matcher import BLOCK, CheckResult, Hit, Verdict

MAX_BYTES = 18_000           # Feishu cards are limited to ~30 KB of JSON; stay well below
LONG_LINE = 120              # longer lines are shown as windows around each hit
WINDOW = 20                  # characters of context either side in a window

COLORS = {BLOCK: "red", "warn": "orange"}
VERDICT_COLORS = {Verdict.PASS: "green", Verdict.WARN: "orange", Verdict.BLOCK: "red"}

CATEGORY_EN = {
    "绝对化": "Absolute claim", "权威背书": "False endorsement", "医疗用语": "Medical claim",
    "功效夸大": "Exaggerated efficacy", "虚假承诺": "False guarantee", "诱导": "Pressure selling",
    "导流/私单": "Off-platform contact", "迷信": "Superstition", "虚假数据": "Fake data/reviews",
    "价格违规": "Pricing", "未成年人": "Minors", "贬低竞品": "Disparaging rivals",
    "团队自定义": "Team term",
}

_T = {
    "zh_CN": {
        "title": "话术合规检查：{verdict}",
        "summary": "共发现 {total} 处：必改 {block} 处，建议改 {warn} 处",
        "clean": "未发现需要修改的用语。",
        "exempted": "已按团队豁免跳过 {n} 处",
        "line": "第 {n} 行",
        "sev_block": "必改", "sev_warn": "建议改",
        "basis": "依据", "suggest": "建议改为", "more": "还有 {n} 处未显示",
        "sep": "｜", "disclaimer": "机器初筛，仅供参考；最终以法务/平台审核为准。",
    },
    "en_US": {
        "title": "Script compliance check: {verdict}",
        "summary": "{total} found: {block} must change, {warn} suggested",
        "clean": "Nothing needs changing.",
        "exempted": "{n} skipped by team exemptions",
        "line": "Line {n}",
        "sev_block": "Must change", "sev_warn": "Suggested",
        "basis": "Basis", "suggest": "Try", "more": "{n} more not shown",
        "sep": " | ", "disclaimer": "Automatic pre-check only; legal/platform review decides.",
    },
}


def escape_md(text: str) -> str:
    """Keep user text from being read as card markdown, tags or mentions."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_").replace("~", "\\~").replace("`", "\\`")
            .replace("[", "\\[").replace("]", "\\]").replace("\r", " ").replace("\n", " "))


def _font(text: str, color: str) -> str:
    return f"<font color='{color}'>{escape_md(text)}</font>"


def _line_bounds(text: str, line: int) -> tuple[int, int]:
    start = 0
    for _ in range(line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            return len(text), len(text)
        start = nl + 1
    end = text.find("\n", start)
    return start, len(text) if end < 0 else end


def _spans(hits: Sequence[Hit]) -> list[tuple[int, int, str]]:
    """Merge overlapping hit spans; a merged span is red if any part is a block."""
    out: list[tuple[int, int, str]] = []
    for h in sorted(hits, key=lambda h: (h.start, h.end)):
        if out and h.start < out[-1][1]:
            s, e, sev = out[-1]
            out[-1] = (s, max(e, h.end), BLOCK if BLOCK in (sev, h.severity) else sev)
        else:
            out.append((h.start, h.end, h.severity))
    return out


def highlight_line(text: str, line: int, hits: Sequence[Hit]) -> str:
    """The line with its hits in colour; long lines become windows around the hits."""
    a, b = _line_bounds(text, line)
    spans = [(max(s, a), min(e, b), sev) for s, e, sev in _spans(hits)]
    if b - a <= LONG_LINE:
        windows = [(a, b)]
    else:
        windows = []
        for s, e, _ in spans:
            lo, hi = max(a, s - WINDOW), min(b, e + WINDOW)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], hi))
            else:
                windows.append((lo, hi))
    parts: list[str] = []
    for lo, hi in windows:
        pos = lo
        seg = "…" if lo > a else ""
        for s, e, sev in spans:
            if e <= lo or s >= hi:
                continue
            s, e = max(s, lo), min(e, hi)
            seg += escape_md(text[pos:s]) + _font(text[s:e], COLORS.get(sev, "orange"))
            pos = e
        seg += escape_md(text[pos:hi]) + ("…" if hi < b else "")
        parts.append(seg.strip())
    return " ".join(parts)


def _hit_line(h: Hit, locale: str) -> str:
    t = _T[locale]
    sev = t["sev_block"] if h.severity == BLOCK else t["sev_warn"]
    cat = CATEGORY_EN.get(h.category, h.category) if locale == "en_US" else h.category
    bits = [_font(h.matched.strip() or h.matched, COLORS.get(h.severity, "orange")),
            escape_md(cat), sev]
    if h.basis:
        bits.append(f"{t['basis']}：{escape_md(h.basis)}" if locale == "zh_CN"
                    else f"{t['basis']}: {escape_md(h.basis)}")
    line = "- " + t["sep"].join(bits)
    if h.suggestions:
        sugg = " / ".join(escape_md(s) for s in h.suggestions[:3])
        line += f"\n  {t['suggest']}：{sugg}" if locale == "zh_CN" else f"\n  {t['suggest']}: {sugg}"
    if h.note:
        line += f"\n  {escape_md(_note(h.note, locale))}"
    return line


def render_markdown(result: CheckResult, locale: str = "zh_CN", max_hits: int = 30,
                    line_labels: Sequence[str] | None = None) -> str:
    """Feishu card markdown for ``result``. ``line_labels[i]`` replaces "第 i+1 行" (for an
    uploaded file: "第 5 段", "Sheet1!B7")."""
    locale = locale if locale in _T else "zh_CN"
    t = _T[locale]
    verdict = result.verdict
    head = [f"**{t['title'].format(verdict=_plain_font(verdict.label(locale), VERDICT_COLORS[verdict]))}**"]
    c = result.counts
    if not result.hits:
        head.append(t["clean"])
    else:
        head.append(t["summary"].format(total=c["total"], block=c["block"], warn=c["warn"]))
    if result.exempted:
        head.append(t["exempted"].format(n=len(result.exempted)))
    out = "\n".join(head)
    footer = f"\n\n{t['disclaimer']}"

    groups: dict[int, list[Hit]] = {}
    for h in result.hits:
        groups.setdefault(h.line, []).append(h)
    shown = 0
    for line_no in sorted(groups):
        hits = groups[line_no]
        if shown >= max_hits:
            break
        take = hits[:max_hits - shown]
        label = (escape_md(line_labels[line_no - 1])
                 if line_labels and 0 < line_no <= len(line_labels)
                 else t["line"].format(n=line_no))
        block = [f"\n\n**{label}**", highlight_line(result.text, line_no, take)]
        block += [_hit_line(h, locale) for h in take]
        chunk = "\n".join(block)
        if _size(out + chunk + footer) + 64 > MAX_BYTES:
            break
        out += chunk
        shown += len(take)
    remaining = len(result.hits) - shown
    if remaining > 0:
        out += "\n\n" + t["more"].format(n=remaining)
    return out + footer


_NOTE_EN = {
    "限定时间/范围或品牌内比较，需有依据，降为建议改":
        "Limited in time/place or a same-brand comparison: keep only with evidence (downgraded)",
    "品牌内/本店范围内比较，需有依据，降为建议改":
        "Same-brand/shop comparison: keep only with evidence (downgraded)",
    "需属实，请核对资质": "Allowed only if true: check the certificate or official listing",  # matcher.VERIFY_NOTE
}


def _note(note: str, locale: str) -> str:
    if locale != "en_US":
        return note
    if note.startswith("已豁免"):
        return "Exempted " + note[len("已豁免"):]
    if note.startswith("谐音/拼音写法，读作"):  # matcher.SOUND_NOTE
        return "Pinyin or sound-alike spelling, read as " + note[len("谐音/拼音写法，读作"):]
    return _NOTE_EN.get(note, note)


def _plain_font(text: str, color: str) -> str:
    return f"<font color='{color}'>{text}</font>"


def _size(s: str) -> int:
    return len(s.encode("utf-8"))
