"""Prometheus metrics, served at /metrics. One registry per bot instance (tests run several)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
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
                                        buckets=(0.1, 0.25, 0.5, 1, 2, 5, 30, 60, 300, 3600), registry=r)
        self.access_denied = Counter("liveops_access_denied_total", "Commands, @mentions and card presses refused "
                                     "by their declared role or scope", ["what", "reason"], registry=r)
        self.handler_errors = Counter("liveops_handler_errors_total", "Handlers that failed unexpectedly (the "
                                      "user saw a reference id)", registry=r)
        self.open_faults = Gauge("liveops_open_faults", "Fault tickets not yet resolved", registry=r)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
