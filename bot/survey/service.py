"""The satisfaction survey: settings, sending, reminding, answers and the month's figures.

Once a month (``SurveySettings.day`` at ``hour``, local time) each partner department contact of
a team gets a card in a direct message: a 1–5 rating and an optional comment (a form). Those who
have not answered get a reminder ``remind_days`` later, and once more after as many days again.
The month's average, response rate and comments show in ``/数据 运营`` against the seed's target
(≥ 4.5 of 5). Sending is idempotent: one survey per team and month, one answer row per contact,
and a card only for a contact who has no answer row yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timers
from bot.timers.recurrence import Recurrence
from bot.survey.models import DEFAULT_DEPT, TARGET, Survey, SurveyAnswer, SurveySettings

MONTHLY, REMIND = "survey.monthly", "survey.remind"
MAX_REMINDERS = 2
MAX_COMMENT = 500


async def settings_for(session: AsyncSession, chat_id: str) -> SurveySettings:
    found = await session.get(SurveySettings, chat_id) if chat_id else None
    return found or SurveySettings(chat_id=chat_id)


async def save(session: AsyncSession, chat_id: str, *, by: str, now: datetime, tz: str, **values) -> SurveySettings:
    row = await session.get(SurveySettings, chat_id)
    if row is None:
        row = SurveySettings(chat_id=chat_id, updated_at=now)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = by, now
    await session.flush()
    await plan(session, row, now, tz)
    return row


def month_key(when: datetime, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m")


async def plan(session: AsyncSession, settings: SurveySettings, now: datetime, tz: str) -> None:
    key = f"{MONTHLY}:{settings.chat_id}"
    if not settings.contacts:
        await timers.cancel(session, key)
        return
    rule = Recurrence.monthly(settings.day, time(settings.hour, 0), tz=tz)
    from bot.timers.recurrence import next_fire

    due = next_fire(rule, now)
    if due is not None:
        await timers.schedule(session, key=key, kind=MONTHLY, due=due, rule=rule, chat_id=settings.chat_id, ref=key,
                              created_by=settings.updated_by)


def contacts_by_dept(settings: SurveySettings) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in settings.contacts or []:
        out.setdefault(c.get("dept") or DEFAULT_DEPT, []).append(c["open_id"])
    return out


async def open_survey(session: AsyncSession, settings: SurveySettings, now: datetime, tz: str) -> tuple[Survey, list[SurveyAnswer]]:
    """This month's survey of the team and the answers not yet asked (new contacts included)."""
    month = month_key(now, tz)
    survey = (await session.execute(select(Survey).where(Survey.chat_id == settings.chat_id,
                                                         Survey.month == month))).scalar_one_or_none()
    if survey is None:
        survey = Survey(chat_id=settings.chat_id, month=month, sent_at=now)
        session.add(survey)
        await session.flush()
    have = {a.open_id for a in (await session.execute(select(SurveyAnswer).where(
        SurveyAnswer.survey_id == survey.id))).scalars()}
    new = []
    for c in settings.contacts or []:
        if c["open_id"] in have:
            continue
        answer = SurveyAnswer(survey_id=survey.id, open_id=c["open_id"], dept=(c.get("dept") or DEFAULT_DEPT)[:64])
        session.add(answer)
        have.add(c["open_id"])
        new.append(answer)
    await session.flush()
    if new:
        remind_at = now + timedelta(days=max(1, settings.remind_days))
        await timers.schedule(session, key=f"{REMIND}:{survey.id}", kind=REMIND, due=remind_at,
                              payload={"survey": survey.id}, chat_id=settings.chat_id, ref=f"{REMIND}:{survey.id}")
    return survey, new


async def unanswered(session: AsyncSession, survey_id: int) -> list[SurveyAnswer]:
    return list((await session.execute(select(SurveyAnswer).where(
        SurveyAnswer.survey_id == survey_id, SurveyAnswer.rating.is_(None)).order_by(SurveyAnswer.id))).scalars())


@dataclass
class Figures:
    sent: int = 0
    answered: int = 0
    average: float | None = None
    comments: list[tuple[str, str, int]] = field(default_factory=list)  # (dept, comment, rating)
    target: float = TARGET

    @property
    def rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    @property
    def met(self) -> bool | None:
        return None if self.average is None else self.average >= self.target


async def figures(session: AsyncSession, start: datetime, end: datetime, tz: str) -> Figures:
    """Surveys of the months that start in [start, end): every team's, together."""
    months = set()
    day = start.astimezone(ZoneInfo(tz)).date().replace(day=1)
    last = (end - timedelta(microseconds=1)).astimezone(ZoneInfo(tz)).date()
    while day <= last:
        months.add(day.strftime("%Y-%m"))
        day = (day + timedelta(days=32)).replace(day=1)
    surveys = [s.id for s in (await session.execute(select(Survey).where(Survey.month.in_(sorted(months))))).scalars()]
    out = Figures()
    if not surveys:
        return out
    answers = list((await session.execute(select(SurveyAnswer).where(SurveyAnswer.survey_id.in_(surveys))
                                          .order_by(SurveyAnswer.answered_at.desc()))).scalars())
    rated = [a for a in answers if a.rating is not None]
    out.sent, out.answered = len(answers), len(rated)
    out.average = sum(a.rating for a in rated) / len(rated) if rated else None
    out.comments = [(a.dept, a.comment, a.rating or 0) for a in rated if a.comment][:5]
    return out
