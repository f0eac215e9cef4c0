"""The Prometheus metrics served at `GET /metrics` (bot.app): counters and a histogram the code
updates as it works, and gauges the scrape reads from the database. Imports nothing of ours, so
any module (the store too) can count. Counts only: no chat key, number or text is a label."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "ukkbot_messages",
    "Messages and button taps handled, by channel and route",
    ["channel", "route"],
)
ANSWER_SECONDS = Histogram(
    "ukkbot_answer_seconds",
    "Time from a message's arrival at the assistant to its replies, by channel",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SENDS = Counter(
    "ukkbot_outbox_sends",
    "Outbox send attempts by channel and result (sent, retry, failed, skipped, expired, "
    "unconfirmed: timed out after the platform may have taken it, not sent again)",
    ["channel", "result"],
)
QUEUE_CALLS = Counter(
    "ukkbot_queue_calls", "Queue numbers called (call) or corrected (set)", ["service", "kind"]
)
DB_WRITE_ERRORS = Counter(
    "ukkbot_db_write_errors", "Write transactions the database refused (rolled back)"
)
OUTBOX_PENDING = Gauge(
    "ukkbot_outbox_pending",
    "Outbox messages not sent yet, by priority class (urgent, bulk) and family (key prefix)",
    ["priority", "family"],
)
BROADCAST = Gauge(
    "ukkbot_broadcast_messages",
    "Messages of the latest announcement broadcast, by outcome (pending until sent)",
    ["announcement", "outcome"],
)
