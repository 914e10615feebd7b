"""The features' tuning knobs (BOT_KEEP_DAYS, BOT_FAULT_* ...), typed and validated once at
start-up with pydantic-settings, instead of each feature reading a string on every call and
quietly falling back to its default on a typo. A bad value stops `liveops run` and
`liveops check-config` with the setting's name, the problem and the fix (bot.config.ConfigError).

Values come from the same place as every other setting (environment first, then .env), which
bot.config has already merged: the model reads only what it is given.
"""
from __future__ import annotations

import re
from datetime import time

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SEVERITIES = ("P0", "P1", "P2", "P3")
_TABLE = re.compile(r"^\s*(P[0-3])\s*=\s*(\d+)\s*$", re.I)

# setting -> what a good value looks like (the "fix" of a ConfigError)
FIXES = {
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


class FeatureSettings(BaseSettings):
    """Every feature knob; empty means the default."""
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    keep_days: int = Field(30, ge=1, le=3650, alias="BOT_KEEP_DAYS")
    task_check_minutes: int = Field(10, ge=1, le=1440, alias="BOT_TASK_CHECK_MINUTES")
    schedule_max_hours: float = Field(12, ge=1, le=24, alias="BOT_SCHEDULE_MAX_HOURS")
    briefing_holidays: str = Field("keep", pattern="^(keep|skip)$", alias="BOT_BRIEFING_HOLIDAYS")
    public_url: str = Field("", pattern=r"^(|https?://\S+)$", alias="BOT_PUBLIC_URL")
    data_drop_dir: str = Field("", alias="BOT_DATA_DROP_DIR")
    fault_ack_minutes: dict[str, int] = Field(default_factory=dict, alias="BOT_FAULT_ACK_MINUTES")
    fault_resolve_minutes: dict[str, int] = Field(default_factory=dict, alias="BOT_FAULT_RESOLVE_MINUTES")
    fault_nudge_minutes: dict[str, int] = Field(default_factory=dict, alias="BOT_FAULT_NUDGE_MINUTES")
    fault_paid_urgent: str = Field("", pattern="^(|sms|phone)$", alias="BOT_FAULT_PAID_URGENT")
    fault_group_severities: tuple[str, ...] = Field((), alias="BOT_FAULT_GROUP_SEVERITIES")
    fault_merge_minutes: int = Field(30, ge=0, le=10080, alias="BOT_FAULT_MERGE_MINUTES")
    fault_office_hours: tuple[time, time] | None = Field(None, alias="BOT_FAULT_OFFICE_HOURS")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # bot.config has merged the environment and .env already

    @field_validator("fault_ack_minutes", "fault_resolve_minutes", "fault_nudge_minutes", mode="before")
    @classmethod
    def _table(cls, raw):
        return severity_table(raw) if isinstance(raw, str) else raw

    @field_validator("fault_paid_urgent", "briefing_holidays", mode="before")
    @classmethod
    def _lower(cls, raw):
        return raw.strip().lower() if isinstance(raw, str) else raw

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


def load(values: dict[str, str]):
    """The validated knobs, or (setting, problem, fix) for the first bad one."""
    given = {k: v.strip() for k, v in values.items() if k in FIXES or k == "BOT_DATA_DROP_DIR"}
    given = {k: v for k, v in given.items() if v}  # empty: the default
    try:
        return FeatureSettings(**given), None
    except ValidationError as exc:
        err = exc.errors()[0]
        setting = str(err["loc"][0]) if err.get("loc") else "?"
        raw = given.get(setting, "")
        problem = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if raw and raw not in problem:
            problem = f"'{raw[:60]}': {problem}"
        return None, (setting, problem, FIXES.get(setting, "See docs/configuration.md."))
