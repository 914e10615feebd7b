"""Cards of /节假日: a year's arrangement, and a pasted import waiting for confirmation."""
from __future__ import annotations

from datetime import date
from itertools import groupby

from bot import roles
from bot.access import Scope
from bot.cards import Button, Card, escape_md
from bot.commands.registry import card_action
from bot.i18n import t
from bot.timeparse import workdays

# The buttons of the import card (handlers: bot/commands/holidays.py).
IMPORT = card_action("holidays.import", label=("导入节假日安排", "import the arrangement"), role=roles.OPS,
                     scope=Scope.TEAM)
CANCEL = card_action("holidays.cancel", label=("取消导入", "cancel the import"), role=roles.OPS, scope=Scope.TEAM)

_ZH_WD = "一二三四五六日"
_EN_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_text(d: date, locale: str) -> str:
    if locale == "en_US":
        return f"{_EN_WD[d.weekday()]} {d:%b} {d.day}"
    return f"{d.month}月{d.day}日（周{_ZH_WD[d.weekday()]}）"


def _runs(days: list[date]) -> list[list[date]]:
    """Consecutive dates grouped: [[2/15, 2/16, 2/17], [4/4]]."""
    out: list[list[date]] = []
    for d in days:
        if out and (d - out[-1][-1]).days == 1:
            out[-1].append(d)
        else:
            out.append([d])
    return out


def days_lines(days: list[tuple[date, str, str]], locale: str) -> list[str]:
    """One line per holiday period ("**春节** 2月15日（周日）至 2月23日（周一），9 天") and
    one for the make-up working days."""
    lines = []
    holidays = [(d, n) for d, k, n in days if k == "holiday"]
    for name, group in groupby(holidays, key=lambda x: x[1]):
        for run in _runs([d for d, _n in group]):
            span = day_text(run[0], locale) + (t(locale, "holidays.to") + day_text(run[-1], locale)
                                               if len(run) > 1 else "")
            lines.append(t(locale, "holidays.line_holiday", name=escape_md(name or "—"), days=span, n=len(run)))
    work = [day_text(d, locale) for d, k, _n in days if k == "workday"]
    if work:
        lines.append(t(locale, "holidays.line_workdays", days="、".join(work) if locale != "en_US" else ", ".join(work)))
    return lines


def year_card(year: int, locale: str, *, today: date, edited: int = 0) -> Card:
    """A year's holidays and make-up working days, where they come from, and what is unknown."""
    source = workdays.year_source(year)
    card = Card(t(locale, "holidays.list_title", year=year), template="wathet" if workdays.year_known(year) else "orange")
    lines = days_lines(workdays.year_days(year, locale), locale)
    card.markdown("\n".join(lines) if lines else t(locale, "holidays.none"))
    if source == "database":
        card.note(t(locale, "holidays.source_database",
                    source=escape_md(workdays.db_year_source(year) or t(locale, "holidays.source_unknown"))))
    elif source in ("shipped", "chinese_calendar"):
        card.note(t(locale, "holidays.source_shipped"))
    else:
        card.note(t(locale, "holidays.year_unknown", year=year))
    if edited:
        card.note(t(locale, "holidays.edited", n=edited))
    ahead = workdays.unknown_year_ahead(today)
    if ahead is not None and ahead != year:
        card.note(t(locale, "holidays.year_unknown", year=ahead))
    card.note(t(locale, "holidays.hint"))
    return card


def import_card(import_id: int, year: int, days: list[tuple[date, str, str]], locale: str, *, source: str,
                warnings: list[str], replaces: int) -> Card:
    """The preview of a pasted year, with its confirm and cancel buttons."""
    card = Card(t(locale, "holidays.import_title", year=year), template="orange")
    card.markdown("\n".join(days_lines(days, locale)))
    card.note(t(locale, "holidays.import_count", holidays=sum(1 for _d, k, _n in days if k == "holiday"),
                workdays=sum(1 for _d, k, _n in days if k == "workday")))
    card.note(t(locale, "holidays.import_source", source=escape_md(source or t(locale, "holidays.source_unknown"))))
    if warnings:
        card.note(t(locale, "holidays.import_warn", days="、".join(warnings)))
    if replaces:
        card.note(t(locale, "holidays.import_replace", year=year, n=replaces))
    card.buttons(Button(t(locale, "holidays.btn_import"), IMPORT(id=import_id), kind="primary"),
                 Button(t(locale, "holidays.btn_cancel"), CANCEL(id=import_id)))
    return card


def import_done_card(year: int, days: list[tuple[date, str, str]], locale: str, outcome: str, *,
                     applied: bool) -> Card:
    card = Card(t(locale, "holidays.imported_title" if applied else "holidays.cancelled_title", year=year),
                template="green" if applied else "grey")
    if applied:
        card.markdown("\n".join(days_lines(days, locale)))
    card.markdown(outcome)
    return card
