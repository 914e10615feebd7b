"""Settings: defaults, validation, and the one-line exit-2 start-up error."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot import config


def test_defaults():
    s = config.load({}, env_file=None)
    assert not s.sandbox and s.timezone == "Asia/Shanghai" and s.locale == "zh_CN"  # never implicitly
    assert s.host == "127.0.0.1" and s.port == 8080 and s.transport == "webhook"
    assert s.database_url.startswith("sqlite+aiosqlite:///") and s.database_url.endswith("liveops.db")
    assert s.http_timeout == 30 and s.metrics_port == 0 and s.metrics_token == ""


def test_the_sandbox_only_when_asked_and_on_its_own_database():
    env = {"DATABASE_URL": "postgresql://liveops:pw@db/liveops", "FEISHU_APP_ID": "cli_abc",
           "FEISHU_APP_SECRET": "x", "FEISHU_VERIFICATION_TOKEN": "v"}
    assert not config.load(env, env_file=None).sandbox
    s = config.load(env, env_file=None, sandbox=True)
    assert s.sandbox and s.database_url.endswith("data/sandbox.db") and s.database_from_env


def test_real_app_settings():
    s = config.load({"FEISHU_APP_ID": "cli_abc", "FEISHU_APP_SECRET": "x", "FEISHU_VERIFICATION_TOKEN": "v",
                     "FEISHU_DOMAIN": "lark", "DATABASE_URL": "postgresql://u@h/db",
                     "BOT_ADMINS": "ou_1, ou_2", "BOT_LOCALE": "en_US"}, env_file=None)
    assert not s.sandbox and s.domain == "https://open.larksuite.com"
    assert s.database_url == "postgresql+asyncpg://u@h/db" and s.admins == ("ou_1", "ou_2")


@pytest.mark.parametrize("env,setting", [
    ({"FEISHU_APP_ID": "cli_abc"}, "FEISHU_APP_SECRET"),
    ({"FEISHU_APP_ID": "abc", "FEISHU_APP_SECRET": "x"}, "FEISHU_APP_ID"),
    ({"BOT_TRANSPORT": "smoke"}, "BOT_TRANSPORT"),
    ({"BOT_TIMEZONE": "Mars/Base"}, "BOT_TIMEZONE"),
    ({"BOT_LOCALE": "fr_FR"}, "BOT_LOCALE"),
    ({"BOT_PORT": "eighty"}, "BOT_PORT"),
    ({"BOT_ADMINS": "wang"}, "BOT_ADMINS"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"FEISHU_DOMAIN": "example.com"}, "FEISHU_DOMAIN"),
    ({"FEISHU_APP_ID": "cli_abc", "FEISHU_APP_SECRET": "x"}, "FEISHU_VERIFICATION_TOKEN"),
    ({"BOT_HTTP_TIMEOUT": "0"}, "BOT_HTTP_TIMEOUT"),
    ({"BOT_METRICS_PORT": "8080"}, "BOT_METRICS_PORT"),
    ({"BOT_METRICS_PORT": "port"}, "BOT_METRICS_PORT"),
    # the features' knobs: a typo stops the start instead of quietly becoming the default
    ({"BOT_FAULT_ACK_MINUTES": "garbage"}, "BOT_FAULT_ACK_MINUTES"),
    ({"BOT_FAULT_ACK_MINUTES": "P0=10,P7=3"}, "BOT_FAULT_ACK_MINUTES"),
    ({"BOT_FAULT_RESOLVE_MINUTES": "P1=0"}, "BOT_FAULT_RESOLVE_MINUTES"),
    ({"BOT_FAULT_PAID_URGENT": "carrier pigeon"}, "BOT_FAULT_PAID_URGENT"),
    ({"BOT_FAULT_GROUP_SEVERITIES": "P0,high"}, "BOT_FAULT_GROUP_SEVERITIES"),
    ({"BOT_FAULT_OFFICE_HOURS": "nine to six"}, "BOT_FAULT_OFFICE_HOURS"),
    ({"BOT_FAULT_OFFICE_HOURS": "18:00-09:00"}, "BOT_FAULT_OFFICE_HOURS"),
    ({"BOT_FAULT_MERGE_MINUTES": "-5"}, "BOT_FAULT_MERGE_MINUTES"),
    ({"BOT_KEEP_DAYS": "a month"}, "BOT_KEEP_DAYS"),
    ({"BOT_TASK_CHECK_MINUTES": "0"}, "BOT_TASK_CHECK_MINUTES"),
    ({"BOT_SCHEDULE_MAX_HOURS": "48"}, "BOT_SCHEDULE_MAX_HOURS"),
    ({"BOT_BRIEFING_HOLIDAYS": "maybe"}, "BOT_BRIEFING_HOLIDAYS"),
    ({"BOT_PUBLIC_URL": "bot.example.com"}, "BOT_PUBLIC_URL"),
])
def test_invalid_settings_name_the_setting(env, setting):
    with pytest.raises(config.ConfigError) as info:
        config.load(env, env_file=None)
    assert info.value.setting == setting


def test_good_feature_knobs_pass_and_the_fix_is_named():
    config.load({"BOT_FAULT_ACK_MINUTES": "P0=5, P1=8", "BOT_FAULT_OFFICE_HOURS": "10:00-19:00",
                 "BOT_FAULT_PAID_URGENT": "SMS", "BOT_KEEP_DAYS": "90", "BOT_BRIEFING_HOLIDAYS": "skip",
                 "BOT_PUBLIC_URL": "https://bot.example.com/feishu/events", "BOT_KEEP_DAYS_EXTRA": "x"},
                env_file=None)
    with pytest.raises(config.ConfigError) as info:
        config.load({"BOT_FAULT_ACK_MINUTES": "P0=ten"}, env_file=None)
    assert "'P0=ten'" in info.value.problem and "P0=10" in info.value.fix


def test_each_feature_has_its_own_typed_settings_validated_at_start():
    from datetime import time

    from bot import feature_settings as fs

    s = config.load({"BOT_FAULT_ACK_MINUTES": "P0=5, P1=8", "BOT_FAULT_OFFICE_HOURS": "10:00-19:00",
                     "BOT_FAULT_PAID_URGENT": "SMS", "BOT_KEEP_DAYS": "90", "BOT_BRIEFING_HOLIDAYS": "Skip",
                     "BOT_TASK_CHECK_MINUTES": "5", "BOT_SCHEDULE_MAX_HOURS": "8",
                     "BOT_DATA_DROP_DIR": "/srv/drop"}, env_file=None)
    assert set(s.features) == set(fs.MODELS)
    faults = s.features["faults"]
    assert isinstance(faults, fs.FaultSettings)
    assert faults.fault_ack_minutes == {"P0": 5, "P1": 8} and faults.fault_paid_urgent == "sms"
    assert faults.fault_office_hours == (time(10), time(19))
    assert fs.of(s, fs.RetentionSettings).keep_days == 90
    assert fs.of(s, fs.TaskSettings).task_check_minutes == 5
    assert fs.of(s, fs.ScheduleSettings).schedule_max_hours == 8
    assert fs.of(s, fs.BriefingSettings).briefing_holidays == "skip"
    assert fs.of(s, fs.DataSettings).data_drop_dir == "/srv/drop"
    # each setting belongs to exactly one feature's model, and each has a fix to name
    names = [n for model in fs.MODELS.values() for n in model.names()]
    assert len(names) == len(set(names)) and set(names) == set(fs.FIXES)


def test_feature_defaults_are_the_features_own():
    from bot import feature_settings as fs, housekeeping
    from bot.schedule import service
    from bot.tasks import mirror

    s = config.load({}, env_file=None)
    assert fs.of(s, fs.RetentionSettings).keep_days == housekeeping.DEFAULT_DAYS
    assert fs.of(s, fs.TaskSettings).task_check_minutes == mirror.DEFAULT_CHECK_MINUTES
    assert fs.of(s, fs.ScheduleSettings).schedule_max_hours == service.DEFAULT_MAX_HOURS
    assert fs.of(s, fs.BriefingSettings).briefing_holidays == "keep"
    # a Settings built by hand (tests, tools) with a bad value reads the defaults, as before
    hand = config.Settings(extra={"BOT_KEEP_DAYS": "a month"})
    assert fs.of(hand, fs.RetentionSettings).keep_days == housekeeping.DEFAULT_DAYS


def test_check_config_shows_each_features_settings_with_secrets_masked():
    from bot import feature_settings as fs

    s = config.load({"FEISHU_APP_ID": "cli_abc", "FEISHU_APP_SECRET": "hush", "FEISHU_VERIFICATION_TOKEN": "tok",
                     "BOT_KEEP_DAYS": "60", "BOT_FAULT_PAID_URGENT": "phone"}, env_file=None)
    shown = dict(config.redacted(s))
    assert shown["retention.BOT_KEEP_DAYS"] == "60" and shown["faults.BOT_FAULT_PAID_URGENT"] == "phone"
    assert shown["app_secret"] == "***" and "hush" not in str(shown)
    assert "features" not in shown
    assert {k.split(".", 1)[0] for k in shown if "." in k} == set(fs.MODELS)

    class Hooked(fs.FeatureModel):  # a feature whose knob is a secret is masked too
        hook_token: str = ""

    masked = dict(fs.shown({"hook": Hooked(hook_token="s3cret")}))
    assert masked == {"hook.hook_token": "***"}


def test_env_file_is_read(tmp_path):
    env = tmp_path / ".env"
    env.write_text("BOT_PORT=9090\nBOT_LOCALE=en_US\n")
    s = config.load({}, env_file=env)
    assert s.port == 9090 and s.locale == "en_US"


def test_cli_exits_2_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot", "check-config"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "BOT_PORT": "abc",
                                 "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_PORT" in lines[0] and "Traceback" not in result.stderr
