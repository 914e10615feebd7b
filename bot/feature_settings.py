"""The features' tuning knobs (BOT_KEEP_DAYS, BOT_FAULT_* ...): one typed pydantic-settings model
per feature (FaultSettings, RetentionSettings ... listed in MODELS), validated once at start-up
instead of each feature reading a string on every call and quietly falling back to its default
on a typo. A bad value stops `liveops run` and `liveops check-config` with the setting's name,
the problem and the fix (bot.config.ConfigError); check-config prints every model's values.

Values come from the same place as every other setting (environment first, then .env), which
bot.config has already merged: a model reads only what it is given. A feature reads its own
model with ``of(settings, RetentionSettings)``.
"""
from __future__ import annotations

import re
from datetime import time
from typing import ClassVar, Mapping, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SEVERITIES = ("P0", "P1", "P2", "P3")
_TABLE = re.compile(r"^\s*(P[0-3])\s*=\s*(\d+)\s*$", re.I)

# setting -> what a good value looks like (the "fix" of a ConfigError)
_FIXES = {
    "BOT_KEEP_DAYS": "Use a number of days from 1 to 3650 (default 30).",
    "BOT_TASK_CHECK_MINUTES": "Use a number of minutes from 1 to 1440 (default 10).",
    "BOT_SCHEDULE_MAX_HOURS": "Use a number of hours from 1 to 24 (default 12).",
    "BOT_BRIEFING_HOLIDAYS": "Use keep (briefings on holidays too) or skip.",
    "BOT_PUBLIC_URL": "Use the https URL Feishu posts to, e.g. https://bot.example.com/feishu/events.",
    "BOT_FAULT_ACK_MINUTES": "Use P0=10,P1=10,P2=30,P3=120 (minutes, each above 0).",
    "BOT_FAULT_RESOLVE_MINUTES": "Use P0=30,P1=60,P2=240,P3=1440 (minutes, each above 0).",
    "BOT_FAULT_NUDGE_MINUTES": "Use P0=10,P1=15,P2=60,P3=240 (minutes, each above 0).",
    "BOT_FAULT_PAID_URGENT": "Leave it empty, or use sms or phone.",
    "BOT_FAULT_GROUP_SEVERITIES": "List severities from P0,P1,P2,P3, e.g. P0,P1.",
    "BOT_FAULT_MERGE_MINUTES": "Use a number of minutes, e.g. 30 (0 merges only by room).",
    "BOT_FAULT_OFFICE_HOURS": "Use HH:MM-HH:MM, e.g. 09:00-18:00.",
}


def _lowercase(cls, raw):
    return raw.strip().lower() if isinstance(raw, str) else raw


def severity_table(raw: str) -> dict[str, int]:
    """"P0=10,P1=15" -> {"P0": 10, "P1": 15}; ValueError naming the part that is wrong."""
    out: dict[str, int] = {}
    for part in raw.replace(";", ",").split(","):
        if not part.strip():
            continue
        m = _TABLE.match(part)
        if not m or int(m.group(2)) <= 0:
            raise ValueError(f"'{part.strip()}' is not P0..P3=minutes")
        out[m.group(1).upper()] = int(m.group(2))
    return out


class FeatureModel(BaseSettings):
    """One feature's knobs; empty means the default. ``FIXES``: setting -> what a good value
    looks like (the "fix" of a ConfigError)."""
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)
    FIXES: ClassVar[dict[str, str]] = {}

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # bot.config has merged the environment and .env already

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings (environment variables) this model reads."""
        return tuple(str(f.alias) for f in cls.model_fields.values())


class RetentionSettings(FeatureModel):
    """bot.housekeeping: how long finished rows are kept."""
    FIXES = {"BOT_KEEP_DAYS": _FIXES["BOT_KEEP_DAYS"]}
    keep_days: int = Field(30, ge=1, le=3650, alias="BOT_KEEP_DAYS")


class TaskSettings(FeatureModel):
    """bot.tasks.mirror: how often mirrored Feishu tasks are read back."""
    FIXES = {"BOT_TASK_CHECK_MINUTES": _FIXES["BOT_TASK_CHECK_MINUTES"]}
    task_check_minutes: int = Field(10, ge=1, le=1440, alias="BOT_TASK_CHECK_MINUTES")


class ScheduleSettings(FeatureModel):
    """bot.commands.schedule: the longest stream."""
    FIXES = {"BOT_SCHEDULE_MAX_HOURS": _FIXES["BOT_SCHEDULE_MAX_HOURS"]}
    schedule_max_hours: float = Field(12, ge=1, le=24, alias="BOT_SCHEDULE_MAX_HOURS")


class BriefingSettings(FeatureModel):
    """bot.commands.briefing: whether a new subscription briefs on public holidays."""
    FIXES = {"BOT_BRIEFING_HOLIDAYS": _FIXES["BOT_BRIEFING_HOLIDAYS"]}
    briefing_holidays: str = Field("keep", pattern="^(keep|skip)$", alias="BOT_BRIEFING_HOLIDAYS")

    _lower = field_validator("briefing_holidays", mode="before")(_lowercase)


class DoctorSettings(FeatureModel):
    """bot.doctor: the public request URL it checks."""
    FIXES = {"BOT_PUBLIC_URL": _FIXES["BOT_PUBLIC_URL"]}
    public_url: str = Field("", pattern=r"^(|https?://\S+)$", alias="BOT_PUBLIC_URL")


class DataSettings(FeatureModel):
    """bot.data.sources: the folder of Compass exports it imports (empty: none)."""
    FIXES = {"BOT_DATA_DROP_DIR": "Use a folder path, or leave it empty."}
    data_drop_dir: str = Field("", alias="BOT_DATA_DROP_DIR")


class FaultSettings(FeatureModel):
    """bot.faults: the SLA ladder's numbers (read through bot.faults.policy)."""
    FIXES = {k: v for k, v in _FIXES.items() if k.startswith("BOT_FAULT_")}
    fault_ack_minutes: dict[str, int] = Field(default_factory=dict, alias="BOT_FAULT_ACK_MINUTES")
    fault_resolve_minutes: dict[str, int] = Field(default_factory=dict, alias="BOT_FAULT_RESOLVE_MINUTES")
    fault_nudge_minutes: dict[str, int] = Field(default_factory=dict, alias="BOT_FAULT_NUDGE_MINUTES")
    fault_paid_urgent: str = Field("", pattern="^(|sms|phone)$", alias="BOT_FAULT_PAID_URGENT")
    fault_group_severities: tuple[str, ...] = Field((), alias="BOT_FAULT_GROUP_SEVERITIES")
    fault_merge_minutes: int = Field(30, ge=0, le=10080, alias="BOT_FAULT_MERGE_MINUTES")
    fault_office_hours: tuple[time, time] | None = Field(None, alias="BOT_FAULT_OFFICE_HOURS")

    _lower = field_validator("fault_paid_urgent", mode="before")(_lowercase)

    @field_validator("fault_ack_minutes", "fault_resolve_minutes", "fault_nudge_minutes", mode="before")
    @classmethod
    def _table(cls, raw):
        return severity_table(raw) if isinstance(raw, str) else raw

    @field_validator("fault_group_severities", mode="before")
    @classmethod
    def _severities(cls, raw):
        if not isinstance(raw, str):
            return raw
        found = tuple(s.strip().upper() for s in raw.split(",") if s.strip())
        wrong = [s for s in found if s not in SEVERITIES]
        if wrong:
            raise ValueError(f"'{wrong[0]}' is not one of P0, P1, P2, P3")
        return found

    @field_validator("fault_office_hours", mode="before")
    @classmethod
    def _hours(cls, raw):
        if not isinstance(raw, str):
            return raw
        start, dash, end = raw.partition("-")
        try:
            if not dash:
                raise ValueError
            start_t, end_t = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        except ValueError:
            raise ValueError(f"'{raw}' is not HH:MM-HH:MM") from None
        if start_t >= end_t:
            raise ValueError(f"'{raw}' ends before it starts")
        return start_t, end_t


# One model per feature, in the order `liveops check-config` shows them and a start-up names
# the first bad value. A new feature's knobs: a FeatureModel here, a line in this table, a row
# in bot/docgen.py's SETTINGS (docs/configuration.md).
MODELS: dict[str, type[FeatureModel]] = {
    "faults": FaultSettings, "retention": RetentionSettings, "tasks": TaskSettings,
    "schedule": ScheduleSettings, "briefing": BriefingSettings, "doctor": DoctorSettings,
    "data": DataSettings,
}
FIXES = {name: fix for model in MODELS.values() for name, fix in model.FIXES.items()}


def _given(model: type[FeatureModel], values: Mapping[str, object]) -> dict[str, str]:
    """The model's settings that are set (empty: the default), stripped."""
    given = {k: str(values[k]).strip() for k in model.names() if isinstance(values.get(k), str)}
    return {k: v for k, v in given.items() if v}


def _problem(model: type[FeatureModel], given: dict[str, str], exc: ValidationError) -> tuple[str, str, str]:
    err = exc.errors()[0]
    setting = str(err["loc"][0]) if err.get("loc") else "?"
    raw = given.get(setting, "")
    problem = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if raw and raw not in problem:
        problem = f"'{raw[:60]}': {problem}"
    return setting, problem, model.FIXES.get(setting, "See docs/configuration.md.")


_M = TypeVar("_M", bound=FeatureModel)
_cache: dict[tuple, FeatureModel] = {}


def of(settings, model: type[_M]) -> _M:
    """``model`` read from ``settings`` (its .extra: the BOT_* values bot.config merged). A
    start-up has validated them (load); a Settings built by hand with a bad value gets the
    model's defaults, as the features did before they were typed."""
    given = _given(model, getattr(settings, "extra", {}) or {})
    key = (model, tuple(sorted(given.items())))
    found = _cache.get(key)
    if found is None:
        try:
            found = model(**given)
        except ValidationError:
            found = model()
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = found
    return found  # type: ignore[return-value]


def shown(features: Mapping[str, FeatureModel]) -> list[tuple[str, str]]:
    """Every feature's knobs as ``(feature.setting, value)`` for `liveops check-config`; none
    is a secret today, but a name with SECRET, TOKEN, PASSWORD or KEY in it is masked."""
    out: list[tuple[str, str]] = []
    for feature, values in features.items():
        for field, value in values.model_dump(by_alias=True).items():
            secret = any(w in field.upper() for w in ("SECRET", "TOKEN", "PASSWORD")) or field.upper().endswith("_KEY")
            out.append((f"{feature}.{field}", "***" if secret and value else str(value)))
    return out


def load(values: Mapping[str, object]) -> tuple[dict[str, FeatureModel] | None, tuple[str, str, str] | None]:
    """Each feature's validated knobs (feature name -> model), or (setting, problem, fix) for the
    first bad one."""
    out: dict[str, FeatureModel] = {}
    for name, model in MODELS.items():
        given = _given(model, values)
        try:
            out[name] = model(**given)
        except ValidationError as exc:
            return None, _problem(model, given, exc)
    return out, None
