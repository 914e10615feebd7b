"""Prometheus metrics, served at /metrics. One registry per bot instance (tests run several).

What an on-call engineer alerts on (deploy/prometheus/alerts.yml, docs/operations.md):

* ``liveops_handler_errors_total{where}``: a handler failed and the user saw a reference id;
  ``liveops_event_failures_total`` / ``liveops_events_given_up_total``: event processing
  failed (retried) / an event was set aside after 5 failed attempts.
* ``liveops_timers_total{kind,outcome}`` (fired, failed, skipped) and
  ``liveops_timer_lateness_seconds``: fired time minus due time.
* ``liveops_briefings_total{kind,outcome}``, ``liveops_sla_breaches_total{kind}``,
  ``liveops_imports_total{kind,outcome}``, ``liveops_import_rejected_rows_total{kind}``.
* ``liveops_send_failures_total{code}``: outbox rows that failed for good.
* ``liveops_longconn_connected`` / ``liveops_longconn_reconnects_total`` (ws transport) and
  ``liveops_info{transport,sandbox}`` (always 1) to tell which instances use it.
* Gauges read from the database at each scrape: backlogs, oldest unsent row, open faults.

Counts made inside a handler's transaction (a timer handler may run twice when its batch is
redone, a savepoint may be rolled back) go through :func:`count`, which adds them only when
the transaction commits.
"""
from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import event
from sqlalchemy.orm import Session

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 30, 60, 300, 3600)


class Metrics:
    def __init__(self, *, transport: str = "webhook", sandbox: bool = False) -> None:
        r = self.registry = CollectorRegistry()
        self.events_received = Counter("liveops_events_received_total", "Events accepted by the webhook or long "
                                       "connection", ["event_type", "outcome"], registry=r)
        self.inbox_write_errors = Counter("liveops_inbox_write_errors_total", "Events refused with 503 because the "
                                          "inbox could not be written", registry=r)
        self.handle_latency = Histogram("liveops_event_handling_seconds", "From claim to done for one event",
                                        buckets=LATENCY_BUCKETS, registry=r)
        self.commands = Counter("liveops_commands_total", "Commands run", ["command"], registry=r)
        self.sent = Counter("liveops_outbox_sent_total", "Outbox rows sent", ["op"], registry=r)
        self.send_errors = Counter("liveops_send_errors_total", "Open API errors by Feishu code", ["code"],
                                   registry=r)
        self.send_latency = Histogram("liveops_send_seconds", "One Open API call", buckets=LATENCY_BUCKETS,
                                      registry=r)
        self.outbox_backlog = Gauge("liveops_outbox_backlog", "Outbox rows waiting to be sent", registry=r)
        self.outbox_oldest_age = Gauge("liveops_outbox_oldest_age_seconds", "Age of the oldest unsent row",
                                       registry=r)
        self.inbox_backlog = Gauge("liveops_inbox_backlog", "Events waiting to be handled", registry=r)
        self.timer_lateness = Histogram("liveops_timer_lateness_seconds", "Fired time minus due time",
                                        buckets=LATENESS_BUCKETS, registry=r)
        self.access_denied = Counter("liveops_access_denied_total", "Commands, @mentions and card presses refused "
                                     "by their declared role or scope", ["what", "reason"], registry=r)
        self.open_faults = Gauge("liveops_open_faults", "Fault tickets not yet resolved", registry=r)
        # -- failures an on-call engineer alerts on
        self.handler_errors = Counter("liveops_handler_errors_total", "Handlers that failed unexpectedly (the "
                                      "user was shown a reference id), by where", ["where"], registry=r)
        self.event_failures = Counter("liveops_event_failures_total", "Events whose processing failed "
                                      "(database or bug outside a handler); retried after the lease", registry=r)
        self.events_given_up = Counter("liveops_events_given_up_total", "Events set aside after failing 5 times",
                                       registry=r)
        self.timers = Counter("liveops_timers_total", "Timer fires by kind and outcome (fired, failed, skipped)",
                              ["kind", "outcome"], registry=r)
        self.briefings = Counter("liveops_briefings_total", "Briefing cards by kind (daily, weekly, monthly) and "
                                 "outcome (sent, skipped_late, skipped_holiday)", ["kind", "outcome"], registry=r)
        self.sla_breaches = Counter("liveops_sla_breaches_total", "Fault SLA breaches by kind (ack, resolve)",
                                    ["kind"], registry=r)
        self.imports = Counter("liveops_imports_total", "File imports by kind (schedule, data) and outcome "
                               "(ok, rejected, asked, unreadable)", ["kind", "outcome"], registry=r)
        self.import_rejected_rows = Counter("liveops_import_rejected_rows_total", "Rows an import refused",
                                            ["kind"], registry=r)
        self.send_failures = Counter("liveops_send_failures_total", "Outbox rows that failed for good, by Feishu "
                                     "code", ["code"], registry=r)
        self.longconn_connected = Gauge("liveops_longconn_connected", "1 while the long connection to Feishu is "
                                        "up (BOT_TRANSPORT=ws), else 0", registry=r)
        self.longconn_reconnects = Counter("liveops_longconn_reconnects_total", "Times the long connection was "
                                           "lost and the SDK started reconnecting", registry=r)
        self.info = Gauge("liveops_info", "Always 1: how this instance runs", ["transport", "sandbox"], registry=r)
        self.info.labels(transport=transport, sandbox=str(bool(sandbox)).lower()).set(1)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def handler_failed(self, where: str) -> None:
        """A handler raised something unexpected (router: the user got a reference id)."""
        self.handler_errors.labels(where=where or "other").inc()

    def timers_fired(self, seen: list[tuple[str, float]], params: list[dict]) -> None:
        """One committed batch of the timer engine: (kind, lateness) and its row updates."""
        for (kind, lateness), p in zip(seen, params):
            outcome = "skipped" if not p["inc"] else "failed" if p["err"] else "fired"
            self.timers.labels(kind=kind, outcome=outcome).inc()
            if outcome != "skipped":
                self.timer_lateness.observe(max(0.0, lateness))

    async def refresh(self, db: Any, now: Any) -> None:
        """The gauges that come from the database, read at each scrape (never fails it)."""
        from sqlalchemy import func, select

        from bot.faults.models import ACTIVE_STATES, Fault
        from bot.store.models import InboxEvent, OutboxMessage

        try:
            async with db.session() as session:
                pending, oldest = (await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at))
                    .where(OutboxMessage.status.in_(("pending", "sending"))))).one()
                waiting = (await session.execute(select(func.count()).select_from(InboxEvent).where(
                    InboxEvent.status.in_(("pending", "claimed"))))).scalar()
                faults = (await session.execute(select(func.count()).select_from(Fault).where(
                    Fault.status.in_(ACTIVE_STATES)))).scalar()
        except Exception:  # noqa: BLE001 - metrics never fail the scrape
            return
        self.outbox_backlog.set(pending)
        self.outbox_oldest_age.set((now - oldest).total_seconds() if oldest else 0)
        self.inbox_backlog.set(waiting)
        self.open_faults.set(faults or 0)


def count(ctx: Any, name: str, amount: float = 1, **labels: str) -> None:
    """Add to counter ``name`` (an attribute of Metrics) once ``ctx.session`` commits.

    Dropped when the transaction, or the savepoint it was counted in, is rolled back."""
    metrics = getattr(getattr(ctx, "svc", None), "metrics", None)
    if metrics is None:
        return
    metric = getattr(metrics, name)
    child = metric.labels(**labels) if labels else metric
    session = getattr(ctx, "session", None)
    if session is None:
        child.inc(amount)
        return
    session.info.setdefault(_PENDING, []).append((child, amount))


def imported(ctx: Any, kind: str, outcome: str, rejected_rows: int = 0) -> None:
    """One file import (``kind`` schedule or data) and the rows it refused."""
    count(ctx, "imports", kind=kind, outcome=outcome)
    if rejected_rows:
        count(ctx, "import_rejected_rows", rejected_rows, kind=kind)


_PENDING, _MARKS = "metrics_pending", "metrics_marks"


@event.listens_for(Session, "after_transaction_create")
def _savepoint_started(session: Session, transaction) -> None:
    if transaction.nested and _PENDING in session.info:
        session.info.setdefault(_MARKS, {})[transaction] = len(session.info[_PENDING])


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction() or _PENDING not in session.info:
        return
    pending = session.info.pop(_PENDING)
    session.info.pop(_MARKS, None)
    for child, amount in pending:
        child.inc(amount)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous) -> None:
    pending = session.info.get(_PENDING)
    if pending is None:
        return
    if previous.nested:
        mark = session.info.get(_MARKS, {}).pop(previous, 0)
        del pending[mark:]
    elif previous.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_MARKS, None)
