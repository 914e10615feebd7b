"""Showing figures: ¥12.5万, 4万, 2.00%, 1分40秒; "—" with the reason when there is no value;
the target and a met / missed mark; sales figures hidden where they may not be seen.

Whether they may be seen is decided once, by bot.data.visibility.sales_hidden; ``masked`` here
is that answer. Hidden are the sales metrics (kpi.SALES: GMV and what is computed from it) and
their targets: the GMV target next to "达成 51%" would give the GMV away."""
from __future__ import annotations

from bot.data import kpi
from bot.data.kpi import Figure
from bot.i18n import t


def _trim(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(value: float, kind: str, locale: str = "zh_CN") -> str:
    if kind == kpi.RATE:
        return f"{value * 100:.2f}%"
    if kind == kpi.SECONDS:
        s = round(value)
        return t(locale, "data.fmt.min_sec", m=s // 60, s=s % 60) if s >= 60 else t(locale, "data.fmt.sec", s=s)
    if kind == kpi.RATIO:
        return f"{value:.2f}"
    big = abs(value) >= 10_000
    if kind == kpi.MONEY:
        if big:
            return "¥" + (t(locale, "data.fmt.wan", n=_trim(value / 10_000, 2)) if locale != "en_US"
                          else f"{_trim(value / 1000, 1)}k")
        return f"¥{value:,.2f}"
    if big:
        return t(locale, "data.fmt.wan", n=_trim(value / 10_000, 2)) if locale != "en_US" else f"{_trim(value / 1000, 1)}k"
    return f"{value:,.0f}"


def label(metric: str, locale: str) -> str:
    return t(locale, f"data.metric.{metric}")


def missing(fig: Figure, locale: str) -> str:
    inputs = ("、" if locale != "en_US" else ", ").join(label(k, locale) for k in fig.why_args)
    return t(locale, f"data.why.{fig.why or 'missing'}", inputs=inputs)


def mark(fig: Figure, locale: str) -> str:
    met = fig.met
    return "" if met is None else t(locale, "data.met" if met else "data.missed")


def target_text(fig: Figure, locale: str) -> str:
    if fig.target is None:
        return ""
    higher = kpi.METRICS[fig.metric][1]
    if fig.kind == kpi.RATE:  # targets are round: "≥ 5%", "≥ 95%", "+30%"
        value = _trim(fig.target * 100, 2) + "%"
        if fig.metric == "newbie_growth":
            return t(locale, "data.target_plain", value="+" + value)
    else:
        value = number(fig.target, fig.kind, locale)
    return t(locale, "data.target_ge" if higher else "data.target_le", value=value)


def show(fig: Figure, locale: str, *, masked: bool = False) -> str:
    """One figure as a line of card markdown: value · target · mark (or achievement only)."""
    if hidden(fig.metric, masked):
        if fig.metric == "gmv" and fig.achievement is not None:
            return f"{t(locale, 'data.achievement', pct=f'{fig.achievement * 100:.0f}%')} {mark(fig, locale)}".strip()
        return t(locale, "data.masked")
    if fig.value is None:
        target = target_text(fig, locale)
        return f"{missing(fig, locale)}" + (f" · {target}" if target else "")
    parts = [number(fig.value, fig.kind, locale)]
    if fig.target is not None:
        parts.append(target_text(fig, locale))
        if fig.metric == "gmv" and fig.achievement is not None:
            parts.append(t(locale, "data.achievement", pct=f"{fig.achievement * 100:.0f}%"))
    text = " · ".join(parts)
    sign = mark(fig, locale)
    return f"{text} {sign}" if sign else text


def hidden(metric: str, masked: bool) -> bool:
    """Is this metric (or its target) hidden where ``masked``?"""
    return masked and metric in kpi.SALES


def target_value(metric: str, value: float, locale: str, *, masked: bool = False) -> str:
    """A target as listed by /数据 目标."""
    if hidden(metric, masked):
        return t(locale, "data.masked")
    return number(value, kpi.METRICS[metric][0], locale)
