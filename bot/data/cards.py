"""Data cards: a stream's KPIs with charts, a period's KPIs, the operator KPIs, the import
summary. ``masked`` hides sales figures (groups not marked internal)."""
from __future__ import annotations

from typing import Callable
from zoneinfo import ZoneInfo

from bot import roles
from bot.access import Scope
from bot.cards import Button, Card, escape_md
from bot.commands.registry import card_action
from bot.data import charts, fmt, kpi
from bot.data.kpi import Figure
from bot.data.report import Newbie, PeriodReport, StreamReport
from bot.schedule.service import span_text

# The buttons data cards carry (handlers: bot/commands/data.py).
VIEW = card_action("data.view", label=("查看数据", "see the figures"), scope=Scope.TEAM)
PICK = card_action("data.pick", label=("选择场次导入", "import into this stream"), role=roles.OPS, scope=Scope.TEAM)
UNDO = card_action("data.undo", label=("撤销导入", "undo the import"), role=roles.OPS, scope=Scope.TEAM)

T = Callable[..., str]
STREAM_METRICS = ("gmv", "uv", "pv", "peak_online", "buyers", "view_conv", "click_conv", "exposure_click",
                  "avg_dwell", "new_fans", "follow_rate", "uv_value", "gpm_pv", "gpm_uv", "aov", "roi")
PERIOD_METRICS = ("gmv", "uv", "buyers", "view_conv", "click_conv", "avg_dwell", "new_fans", "uv_value",
                  "gpm_pv", "aov")
OPERATOR_METRICS = ("schedule_accuracy", "script_on_time", "fault_within_10", "review_tasks_on_time")


def pairs(figs: dict[str, Figure], metrics: tuple[str, ...], locale: str, masked: bool) -> list[tuple[str, str]]:
    out = []
    for m in metrics:
        fig = figs.get(m)
        if fig is None or (masked and m in kpi.SALES and m != "gmv"):
            continue
        if (fig.value is None and fig.target is None and fig.why != "zero"
                and m not in ("gmv", "uv", "view_conv", "avg_dwell")):
            continue  # an optional figure the data does not have: leave it out (a zero divisor is shown)
        out.append((fmt.label(m, locale), fmt.show(fig, locale, masked=masked)))
    return out


def joined(items: list[str], locale: str) -> str:
    return (", " if locale == "en_US" else "、").join(items)


def misses(figs: dict[str, Figure], locale: str, masked: bool) -> list[str]:
    return [fmt.label(m, locale) for m, f in figs.items() if f.met is False and not (masked and m in kpi.SALES and m != "gmv")]


def stream_card(t: T, locale: str, rep: StreamReport, tz: ZoneInfo, *, room: str, streamer: str,
                masked: bool) -> Card:
    s = rep.stream
    card = Card(t("data.stream_title", id=s.id, room=room), template="blue",
                subtitle=f"{span_text(s.starts_at, s.ends_at, tz)} · {streamer or '-'}")
    if not rep.has_data:
        card.markdown(t("data.no_data", id=s.id))
        return card
    missed = misses(rep.figures, locale, masked)
    if missed:
        card.markdown(t("data.missed_list", items=joined(missed, locale)))
    card.fields(pairs(rep.figures, STREAM_METRICS, locale, masked))
    line = charts.online_line(rep.trend, tz, t("data.chart_online"), t("data.metric.online"))
    if line:
        card.chart(line, aspect_ratio="16:9")
    if rep.products:
        bar = charts.product_conversion_bar(rep.products, t("data.chart_product_conv", n=min(10, len(rep.products))))
        if bar:
            card.chart(bar, aspect_ratio="4:3")
        card.markdown(top_products(t, locale, rep, masked))
    # masked: the amount-based figures (UV value, GPM) are hidden, so are their formulas
    card.note(t("data.formula_note_masked") + "  " + t("data.masked_note") if masked else t("data.formula_note"))
    return card


def top_products(t: T, locale: str, rep: StreamReport, masked: bool) -> str:
    lines = [t("data.top5")]
    for i, p in enumerate(rep.products[:5], 1):
        v = p.values
        parts = []
        if not masked and v.get("gmv") is not None:
            parts.append(fmt.number(v["gmv"], kpi.MONEY, locale))
        if not masked and v.get("items") is not None:
            parts.append(t("data.items", n=int(v["items"])))
        rate = v.get("click_deal_rate")
        if rate is not None:
            parts.append(t("data.click_deal", pct=fmt.number(rate, kpi.RATE, locale)))
        lines.append(f"{i}. {escape_md(p.name[:40])}" + (f" · {' · '.join(parts)}" if parts else ""))
    return "\n".join(lines)


def period_card(t: T, locale: str, rep: PeriodReport, tz: ZoneInfo, *, title: str, masked: bool,
                fans: Figure | None = None, operator: dict[str, Figure] | None = None,
                chart: bool = True) -> Card:
    card = Card(title, template="indigo", subtitle=t("data.period_sub", n=len(rep.streams), d=rep.with_data))
    if not rep.with_data:
        card.markdown(t("data.period_empty"))
    else:
        missed = misses(rep.figures, locale, masked)
        if missed:
            card.markdown(t("data.missed_list", items=joined(missed, locale)))
        card.fields(pairs(rep.figures, PERIOD_METRICS, locale, masked))
    if fans is not None:
        card.fields([(fmt.label("new_fans_month", locale), fmt.show(fans, locale, masked=masked))])
    if operator:
        card.hr().markdown(t("data.operator_head"))
        card.fields([(fmt.label(m, locale), fmt.show(operator[m], locale)) for m in OPERATOR_METRICS if m in operator])
    if chart and rep.with_data:
        metric = "view_conv" if masked else "gmv"
        spec = charts.days_bar(rep.days, t(f"data.chart_days_{metric}"), metric, locale)
        if spec:
            card.chart(spec, aspect_ratio="16:9")
    if masked and rep.with_data:
        card.note(t("data.masked_note"))
    return card


def operator_card(t: T, locale: str, title: str, figs: dict[str, Figure], newbies: list[Newbie],
                  names: dict[str, str]) -> Card:
    card = Card(title, template="purple")
    card.fields([(fmt.label(m, locale), fmt.show(figs[m], locale)) for m in OPERATOR_METRICS if m in figs])
    if newbies:
        lines = [t("data.newbie_head")]
        for n in newbies:
            lines.append(t("data.newbie_line", name=escape_md(names.get(n.streamer_id, n.streamer_id[-6:])),
                           first=n.first.astimezone().strftime("%m-%d"), value=fmt.show(n.figure, locale)))
        card.markdown("\n".join(lines))
    card.note(t("data.operator_note"))
    return card


def targets_card(t: T, locale: str, rows: list[tuple[str, str, float]], *, masked: bool = False) -> Card:
    """rows: (scope label, metric, value). ``masked``: targets of sales figures (the GMV target,
    客单价, UV value, GPM, ROI) are hidden like the figures themselves."""
    card = Card(t("data.targets_title"), template="turquoise")
    lines = [f"- {scope} · {fmt.label(m, locale)} {fmt.target_value(m, v, locale, masked=masked)}" for scope, m, v in rows]
    card.markdown("\n".join(lines) or t("data.targets_none"))
    card.note(t("data.targets_hint") + ("  " + t("data.masked_note") if masked and any(m in kpi.SALES for _, m, _ in rows)
                                        else ""))
    return card


def import_card(t: T, locale: str, *, file_name: str, placed: list[tuple[str, int, str, str, str]],
                refused: list[str], asked: list[str], ignored: list[str], rejected: list[str],
                notes: list[str] | None = None, replaced: list[str] | None = None, digest: str = "") -> Card:
    """The import summary. ``placed``: (part label, stream id, stream label, state, replaced
    file) for each part stored: every part says which stream it went to."""
    streams = list(dict.fromkeys((sid, label) for _, sid, label, _, _ in placed))
    trouble = refused or rejected or asked
    subtitle = streams[0][1] if len(streams) == 1 else t("data.import_streams", n=len(streams)) if streams else ""
    card = Card(t("data.import_title", file=file_name[:60]), template="orange" if trouble else "green",
                subtitle=subtitle)
    if placed and all(state == "unchanged" for *_, state, _ in placed):
        card.markdown(t("data.import_unchanged"))
    if placed:
        lines = []
        for part, _sid, label, state, old in placed:
            line = t("data.import_to", part=part, stream=escape_md(label))
            if state == "replaced":
                line += t("data.import_part_replaced", file=escape_md(old[:60]))
            elif state == "unchanged":
                line += t("data.import_part_unchanged")
            lines.append("- " + line)
        card.markdown(t("data.import_read", parts="") + "\n" + "\n".join(lines))
    if replaced:
        card.markdown(t("data.import_replaced", items="、".join(fmt.label(k, locale) for k in replaced)))
    if refused:
        card.markdown(t("data.import_refused", n=len(refused)) + "\n" + "\n".join(f"- {escape_md(r)}" for r in refused[:20]))
    if asked:
        card.markdown(t("data.import_asked", parts="、".join(asked)))
    for note in notes or []:
        card.markdown("ℹ️ " + escape_md(note))
    if not (placed or refused or asked or rejected):
        card.markdown(t("data.import_nothing"))
    if ignored:
        card.markdown(t("data.import_ignored", cols="、".join(escape_md(c) for c in ignored[:30])))
    if rejected:
        card.markdown(t("data.import_rejected", n=len(rejected)) + "\n" + "\n".join(f"- {escape_md(r)}" for r in rejected[:20])
                      + ("\n…" if len(rejected) > 20 else ""))
    buttons = [Button(t("data.btn_view", id=sid), VIEW(s=sid), kind="primary") for sid, _ in streams[:3]]
    if digest and any(state != "unchanged" for *_, state, _ in placed):
        buttons += [Button(t("data.btn_undo", id=sid), UNDO(s=sid, d=digest[:16]), kind="danger",
                           confirm=(t("data.undo_confirm_title"), t("data.undo_confirm_text", id=sid)))
                    for sid, _ in streams[:3]]
    if buttons:
        card.buttons(*buttons)
    return card


def picked_card(t: T, file_name: str, label: str, stream_id: int) -> Card:
    """The picker after a press: the choice, no buttons (a second press cannot import twice)."""
    card = Card(t("data.pick_title"), template="grey", subtitle=file_name[:60])
    card.markdown(t("data.pick_done", id=stream_id, file=escape_md(file_name[:60])) + "\n" + escape_md(label))
    return card


def pick_stream_card(t: T, file_name: str, choices: list[tuple[int, str]], ref: dict, part: str = "",
                     said: str = "") -> Card:
    card = Card(t("data.pick_title"), template="yellow", subtitle=file_name[:60])
    card.markdown(t("data.pick_text") if not part else t("data.pick_part", part=escape_md(part),
                                                             said=escape_md(said) or "-"))
    card.buttons(*[Button(label, PICK(s=sid, **ref)) for sid, label in choices])
    return card
