"""Pure parts of fault response: on-call rotations and overrides, argument parsing,
statistics, the policy settings."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.faults import parse
from bot.faults.models import OncallOverride, OncallRotation
from bot.faults.oncall import monday, on_call
from bot.faults.policy import Policy, load
from bot.faults.stats import Record, compute, fmt_minutes, fmt_rate

TZ = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)


def rot(members, category="", starts=MON):
    return OncallRotation(category=category, members=members, starts_on=starts.isoformat())


def ov(day, who, replaces="", category=""):
    return OncallOverride(day=day.isoformat(), open_id=who, replaces=replaces, category=category)


def test_weekly_rotation_turns_and_backup_is_next():
    r = [rot(["a", "b", "c"])]
    assert on_call(r, [], "network", MON).people == ["a", "b"]
    assert on_call(r, [], "network", MON + timedelta(days=6)).primary == "a"
    assert on_call(r, [], "network", MON + timedelta(days=7)).people == ["b", "c"]
    assert on_call(r, [], "network", MON + timedelta(days=14)).people == ["c", "a"]
    assert on_call(r, [], "network", MON + timedelta(days=21)).primary == "a"
    assert on_call(r, [], "network", MON - timedelta(days=7)).primary == "c"  # before the start: wraps


def test_category_rotation_wins_over_the_one_for_all():
    r = [rot(["a", "b"]), rot(["x"], category="network")]
    assert on_call(r, [], "network", MON).people == ["x"]
    assert on_call(r, [], "audio", MON).people == ["a", "b"]


def test_no_rotation_nobody():
    assert on_call([], [], "network", MON).people == []


def test_override_replaces_named_person_or_the_primary():
    r = [rot(["a", "b"])]
    tue = MON + timedelta(days=1)
    assert on_call(r, [ov(tue, "w", replaces="a")], "audio", tue).people == ["w", "b"]
    assert on_call(r, [ov(tue, "w", replaces="b")], "audio", tue).people == ["a", "w"]
    assert on_call(r, [ov(tue, "w")], "audio", tue).primary == "w"
    assert on_call(r, [ov(tue, "w", replaces="a")], "audio", MON).primary == "a"  # only that day
    assert on_call(r, [ov(tue, "b", replaces="a")], "audio", tue).people == ["b"]  # backup == primary: dropped
    assert on_call(r, [ov(tue, "w", category="network")], "audio", tue).primary == "a"


def test_monday():
    assert monday(date(2026, 11, 26)) == MON
    assert monday(MON) == MON


def test_cause_and_fix():
    assert parse.cause_and_fix("原因 推流码过期 处理 更新推流码后恢复") == ("推流码过期", "更新推流码后恢复")
    assert parse.cause_and_fix("原因：网线松了，处理：重新插好") == ("网线松了", "重新插好")
    assert parse.cause_and_fix("处理 换了备用麦 原因 电池没电") == ("电池没电", "换了备用麦")
    assert parse.cause_and_fix("cause key expired fix new key") == ("key expired", "new key")
    assert parse.cause_and_fix("网线松了") == ("网线松了", "")


def test_ticket_ids():
    assert parse.ticket_id("#12 原因 x") == 12
    assert parse.ticket_id("＃7") == 7
    assert parse.ticket_id("12") == 12
    assert parse.ticket_id("原因 x") is None
    assert parse.is_id("#3") and not parse.is_id("3号间断了")
    assert parse.strip_id("#12 原因 x") == "原因 x"


def test_change_args():
    assert parse.change_args("类别 网络 级别 P1") == {"category": "network", "severity": "P1"}
    assert parse.change_args("p2 灯光") == {"severity": "P2", "category": "lighting"}
    assert parse.change_args("直播间 3号间") == {"room": "3号间"}
    with pytest.raises(ValueError):
        parse.change_args("类别 天气")


def test_stats():
    t0 = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)
    m = lambda n: t0 + timedelta(minutes=n)  # noqa: E731
    records = [Record("stream_down", "3号", "a", t0, m(2), m(8)),
               Record("stream_down", "3号", "b", t0, m(4), m(20), resolve_breached=True),
               Record("audio", "1号", "a", t0, m(12), None, ack_breached=True),
               Record("audio", "1号", "", t0, None, None)]
    s = compute(records)
    assert s.total.count == 4 and s.total.acked == 3 and s.total.resolved == 2
    assert s.total.mtta == pytest.approx(6.0) and s.total.mttr == pytest.approx(14.0)
    assert s.total.breach_rate == 0.5 and s.total.kpi_rate == 0.5
    assert list(s.by_category) == ["audio", "stream_down"] or list(s.by_category) == ["stream_down", "audio"]
    assert s.by_tech["a"].count == 2 and s.by_tech["a"].mtta == pytest.approx(7.0)
    assert s.by_room["1号"].mttr is None
    assert fmt_minutes(None) == "-" and fmt_minutes(90) == "1.5h" and fmt_rate(0.5) == "50%"
    assert compute([]).total.breach_rate is None


def test_policy_defaults_and_settings():
    p = Policy()
    assert p.ack("P0") == 10 and p.second_buzz("P0") == 5 and p.wants_group("P1") and not p.wants_group("P2")
    q = load({"BOT_FAULT_ACK_MINUTES": "P0=5,P2=20,bad=3", "BOT_FAULT_PAID_URGENT": "phone",
              "BOT_FAULT_GROUP_SEVERITIES": "P0", "BOT_FAULT_OFFICE_HOURS": "10:00-19:00"})
    assert q.ack("P0") == 5 and q.ack("P1") == 10 and q.ack("P2") == 20
    assert q.paid_urgent == "phone" and q.group_severities == ("P0",)
    assert load({"BOT_FAULT_PAID_URGENT": "carrier pigeon"}).paid_urgent == ""
    thursday_2pm = datetime(2026, 11, 26, 6, tzinfo=timezone.utc)
    assert p.office_hours(thursday_2pm, TZ)
    assert not p.office_hours(thursday_2pm + timedelta(hours=6), TZ)  # 20:00
    assert not p.office_hours(datetime(2026, 10, 1, 4, tzinfo=timezone.utc), TZ)  # National Day
