"""Pure logic of the stream norms: setting values, announcement rules."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.norms import announce, config
from bot.norms.afterstream import started_on_time
from bot.timers.recurrence import next_fire
from bot.schedule.models import Stream
from bot.commands.live import parse_latency
from datetime import timedelta


@pytest.mark.parametrize("text,value", [("2天", 2880), ("2小时", 120), ("90分钟", 90), ("90", 90), ("关", 0),
                                        ("1.5h", 90), ("30min", 30)])
def test_minutes(text, value):
    assert config.minutes(text) == value


@pytest.mark.parametrize("key,text,value", [
    ("explain.hero", "8-12", [8, 12]), ("explain.traffic", "3～5分钟", [3, 5]),
    ("announce.weekly", "周日 20:00", "7 20:00"), ("announce.weekly", "5 18:30", "5 18:30"),
    ("announce.monthly", "1 09:00", "1 09:00"), ("announce.weekly", "关", ""),
    ("optional.selfeval", "开启", True), ("latency_max", "150ms", 150), ("cadence.interact", "10", 10)])
def test_parse_value(key, text, value):
    assert config.parse_value(key, text) == value


@pytest.mark.parametrize("key,text", [("explain.hero", "12-8"), ("announce.weekly", "周八 20:00"),
                                      ("latency_max", "abc"), ("cadence.bag", "500"), ("cp.script", "soon")])
def test_bad_values(key, text):
    with pytest.raises(config.BadValue):
        config.parse_value(key, text)


def test_merge_keeps_known_keys_only():
    cfg = config.merge({"cadence.interact": 10, "nonsense": 1})
    assert cfg["cadence.interact"] == 10 and "nonsense" not in cfg and cfg["cp.equipment"] == 120


def test_weekly_rule_is_sunday_evening():
    rule = announce.announce_rule("weekly", "7 20:00", "Asia/Shanghai")
    nxt = next_fire(rule, datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc))
    assert nxt == datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)  # Sun 20:00 local
    assert announce.announce_rule("weekly", "", "Asia/Shanghai") is None


def test_optional_rules_only_when_switched_on():
    cfg = config.merge({"optional.topic": True})
    wanted = announce.wanted(cfg, "Asia/Shanghai")
    assert wanted["optional:topic"] is not None and wanted["optional:selfeval"] is None


def test_on_time_tolerance_and_latency_parse():
    start = datetime(2026, 11, 27, 11, 0, tzinfo=timezone.utc)
    s = Stream(room_id=1, starts_at=start, ends_at=start + timedelta(hours=4), actual_start=start + timedelta(minutes=5))
    assert started_on_time(s, timedelta(minutes=5))
    s.actual_start = start + timedelta(minutes=6)
    assert not started_on_time(s, timedelta(minutes=5))
    assert parse_latency("120 ms") == 120 and parse_latency("") is None and parse_latency("abc") is None
