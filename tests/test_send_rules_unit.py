"""Pure rules of sending: the limits' windows, the code table, priorities, the fan-out's pace."""
from __future__ import annotations

import pytest

from bot import outbox
from bot.briefing import fanout
from bot.feishu import codes
from bot.sendlimits import Keys, Limits

SEND = "POST /open-apis/im/v1/messages"
PIN = "POST /open-apis/im/v1/pins"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def fire(limits: Limits, keys: Keys, n: int, *, bulk: bool = False) -> int:
    """Start and answer up to ``n`` requests now; how many the limits let through."""
    started = 0
    for _ in range(n):
        if limits.wait(keys, limits.clock(), bulk=bulk) > 0:
            break
        limits.take(keys)
        limits.done(keys)
        started += 1
    return started


def test_fifty_a_second_and_a_thousand_a_minute_either_trips():
    clock = Clock()
    limits = Limits(clock=clock)
    sent = 0
    for second in range(30):
        clock.t = 1000.0 + second
        n = 0
        for lane in range(60):  # 60 chats: the lane limit (5/s) is not what stops them
            n += fire(limits, Keys((SEND,), f"oc_{second}_{lane}"), 1)
        assert n <= 50
        sent += n
    assert sent == 1000  # 20 seconds at 50/s, then the minute window is full
    clock.t = 1000.0 + 59.5
    assert limits.wait(Keys((SEND,), "oc_new"), clock.t) > 0
    clock.t = 1000.0 + 60.01  # the first second's requests leave the minute window
    assert fire(limits, Keys((SEND,), "oc_new"), 1) == 1


def test_one_lane_five_a_second_and_one_api_never_blocks_another():
    clock = Clock()
    limits = Limits(clock=clock)
    assert fire(limits, Keys((SEND,), "oc_team"), 10) == 5
    assert fire(limits, Keys((SEND,), "oc_tech"), 1) == 1
    limits.pause_api(PIN, 30)  # a 429 on pins
    assert limits.wait(Keys((PIN,), "oc_a", "om_1"), clock.t) >= 29
    assert limits.wait(Keys((SEND,), "oc_b"), clock.t) == 0
    limits.pause_lane("oc_c", 1.0)  # 230020 on one chat
    assert limits.wait(Keys((SEND,), "oc_c"), clock.t) > 0 and limits.wait(Keys((SEND,), "oc_d"), clock.t) == 0


def test_bulk_leaves_a_share_of_each_window_for_pages():
    clock = Clock()
    limits = Limits(clock=clock)
    bulk = sum(fire(limits, Keys((SEND,), f"oc_{i}"), 1, bulk=True) for i in range(100))
    assert bulk == 45 and limits.bulk_room(SEND, clock.t) == 0
    pages = sum(fire(limits, Keys((SEND,), f"oc_p{i}"), 1) for i in range(10))
    assert pages == 5  # the kept share: pages still go this second
    for second in range(1, 40):  # bulk fills the minute only up to 900 of its 1,000 (pages count too)
        clock.t = 1000.0 + second
        bulk += sum(fire(limits, Keys((SEND,), f"oc_{second}_{i}"), 1, bulk=True) for i in range(50))
    assert bulk + pages == 900
    assert fire(limits, Keys((SEND,), "oc_page"), 1) == 1  # and a page still finds a slot


def test_in_flight_requests_count_until_answered():
    clock = Clock()
    limits = Limits(clock=clock)
    keys = Keys((SEND,), "oc_team")
    for _ in range(5):
        limits.take(keys)
    assert limits.wait(keys, clock.t) == float("inf")  # wait for an answer, not a guess
    limits.done(keys)
    assert limits.wait(keys, clock.t) > 0.9  # counted from its answer for a second


@pytest.mark.parametrize("status,code,kind", [
    (400, 230049, "temporary"), (400, 232068, "temporary"), (400, 1470422, "temporary"),
    (400, 232019, "chat_rate"), (400, 230020, "chat_rate"), (429, 99991400, "rate"), (400, 99991400, "rate"),
    (400, 99991663, "token"), (400, 99991664, "token"), (400, 99991665, "token"), (400, 99991668, "token"),
    (502, None, "temporary"), (0, None, "temporary"), (500, 1500, "temporary"),
    (400, 230002, "permanent"), (400, 230031, "permanent"), (400, 230052, "permanent"), (400, 123456, "permanent"),
    (200, 0, "ok"),
])
def test_code_table(status, code, kind):
    assert codes.classify(status, code, {"x-ogw-ratelimit-reset": "3"})[0] == kind


def test_rate_waits_what_feishu_says():
    assert codes.classify(429, 99991400, {"x-ogw-ratelimit-reset": "3"}) == ("rate", 3.0)


def test_priority_comes_from_what_queued_the_row():
    assert outbox.priority_for("evt:e1:1", "reply") == outbox.PERSON
    assert outbox.priority_for("timer:3:20261126T010000:1", "send") == outbox.ROUTINE
    assert outbox.priority_for("timer:3:20261126T010000:2", "urgent") == outbox.PAGE
    assert outbox.priority_for("fault:7:group:1", "send") == outbox.PAGE
    with outbox.priority(outbox.BULK):
        assert outbox.priority_for("timer:4:x:1", "send") == outbox.BULK
        assert outbox.priority_for("timer:4:x:2", "urgent") == outbox.PAGE  # a buzz is always a page
    assert outbox.priority_for("timer:4:x:3", "send") == outbox.ROUTINE


def test_briefings_are_released_at_the_pace_the_bulk_share_allows():
    assert fanout.offset(0) == 0 and fanout.offset(fanout.BLOCK - 1) == 0
    assert fanout.offset(fanout.BLOCK) == pytest.approx(fanout.BLOCK / 45)
    assert fanout.offset(899) == pytest.approx((900 - fanout.BLOCK) / 45)
    assert fanout.offset(900) == 60.0  # the minute window is full: the next minute
    assert fanout.floor_seconds(1000) == pytest.approx(60 + 100 / 45)
    assert fanout.floor_seconds(45) == pytest.approx(1.0)
