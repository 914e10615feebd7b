"""The sender's statements, built once: building a SQLAlchemy statement costs more CPU than
running it, and the sender runs these for every look and every send."""
from __future__ import annotations

import functools

from sqlalchemy import Boolean, Integer, Text, and_, bindparam, func, or_, select, update

from bot.outbox import BULK
from bot.store.models import OutboxMessage
from bot.store.types import UTCDateTime


def lowest(bits: int) -> int:
    """The most urgent priority among bot.outbox priority bits."""
    return (bits & -bits).bit_length() - 1


_T = OutboxMessage.__table__


@functools.cache
def claim_ids(kind: str):
    """Ids of the first live row of each lane, most urgent first (a LIMIT 1 subquery, not NOT
    EXISTS, see inbox.claim; one status per query, so each follows its index)."""
    earlier = _T.alias("earlier")
    first_in_lane = (select(earlier.c.id).where(earlier.c.lane == _T.c.lane, earlier.c.id < _T.c.id,
                                                earlier.c.status.in_(("pending", "sending")))
                     .limit(1).scalar_subquery().is_(None))
    now = bindparam("now", type_=UTCDateTime)
    wanted = {"stale": and_(_T.c.status == "sending", _T.c.claimed_until < now),
              "high": and_(_T.c.status == "pending", _T.c.next_attempt_at <= now, _T.c.priority < BULK),
              "bulk": and_(_T.c.status == "pending", _T.c.next_attempt_at <= now, _T.c.priority >= BULK)}[kind]
    return (select(_T.c.id).where(wanted, first_in_lane).order_by(_T.c.priority, _T.c.id)
            .limit(bindparam("lim")).with_for_update(skip_locked=True))


@functools.cache
def claim_update():
    now = bindparam("now", type_=UTCDateTime)
    due = or_(and_(_T.c.status == "pending", _T.c.next_attempt_at <= now),
              and_(_T.c.status == "sending", _T.c.claimed_until < now))
    return (update(OutboxMessage).where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), due)
            .values(status="sending", claimed_by=bindparam("who"), claimed_until=bindparam("until", type_=UTCDateTime))
            .returning(OutboxMessage))


@functools.cache
def next_due():
    now = bindparam("now", type_=UTCDateTime)
    retry = select(func.min(_T.c.next_attempt_at)).where(_T.c.status == "pending", _T.c.next_attempt_at > now)
    lease = select(func.min(_T.c.claimed_until)).where(_T.c.status == "sending", _T.c.claimed_by != bindparam("who"))
    return select(retry.scalar_subquery(), lease.scalar_subquery())


@functools.cache
def behind():
    """The priority of the next row waiting in a lane."""
    return (select(_T.c.priority).where(_T.c.lane == bindparam("lane"), _T.c.status == "pending",
                                        _T.c.id != bindparam("rid")).order_by(_T.c.id).limit(1))


@functools.cache
def finish():
    """The outcome of one row: sent, failed or due again (one statement, built once)."""
    return (update(_T).where(_T.c.id == bindparam("rid"))
            .values(status=bindparam("v_status"), attempts=bindparam("v_attempts"), claimed_until=None,
                    sent_at=bindparam("v_sent", type_=UTCDateTime), result=bindparam("v_result", type_=_T.c.result.type),
                    next_attempt_at=func.coalesce(bindparam("v_next", type_=UTCDateTime), _T.c.next_attempt_at),
                    last_error=bindparam("v_error", type_=Text), error_code=bindparam("v_code", type_=Integer),
                    reported=bindparam("v_reported", type_=Boolean)))
