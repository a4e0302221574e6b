"""The service's Prometheus metrics: what the API and the workers count and time.

Every label takes a value from a short fixed list (an outcome, a kind, a limit's scope, an
operation of the schema): never an address, a name, a token or anything a client typed.
Each process keeps its own counts in prometheus-client's default registry; the API serves
them at /metrics and each worker on its own port (README, "Production").
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from domain import outbox

# No `*_created` timestamp series beside each counter and histogram: Prometheus does not need
# them, and they double what every scrape stores.
disable_created_metrics()

# Seconds: from a quick GraphQL query to a slow page of a big list.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Seconds to hand one mail to the relay (a pooled connection: milliseconds; a new one, TLS
# and a slow relay: seconds).
_SEND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_IMPORT_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900)
_ROW_BUCKETS = (10, 100, 1_000, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)

graphql_requests = Counter(
    "invitations_graphql_requests",
    "GraphQL operations by root field (or 'other') and outcome (ok, error, invalid).",
    ["operation", "outcome"],
)
graphql_duration = Histogram(
    "invitations_graphql_request_duration_seconds",
    "Time to answer a GraphQL operation, by root field (or 'other').",
    ["operation"],
    buckets=_REQUEST_BUCKETS,
)
graphql_prepared_requests = Counter(
    "invitations_graphql_prepared_requests",
    "GraphQL operations answered from a prepared document (the service's own pages' busiest"
    " questions, without the general executor), by root field.",
    ["operation"],
)
invitations_created = Counter(
    "invitations_created",
    "Invitations written, by where they came from (request: typed in or generated codes; import).",
    ["source"],
)
mails_sent = Counter(
    "invitations_mails_sent",
    "Mails the relay accepted (invitations, reminders, account mails).",
)
mails_failed = Counter(
    "invitations_mails_failed",
    "Mails the relay did not take, by reason: permanent (5xx), temporary (4xx: tried again"
    " later), relay_unreachable (no connection), unwritable (the mail could not be composed).",
    ["reason"],
)
mails_bounced = Counter(
    "invitations_mails_bounced",
    "Delivery reports matched to an invitation after the relay took it, by kind (hard, soft,"
    " complaint) and source (mailgun, ses, postmark, dsn).",
    ["kind", "source"],
)
mail_send_duration = Histogram(
    "invitations_mail_send_duration_seconds",
    "Time to hand one mail to the relay, whatever the answer.",
    buckets=_SEND_BUCKETS,
)
queue_jobs = Gauge(
    "invitations_queue_jobs",
    "Jobs waiting in the work queue (deferred ones included), read at scrape time.",
)
queue_oldest_job_age = Gauge(
    "invitations_queue_oldest_job_age_seconds",
    "How long the oldest job has waited: since it fell due, or since it was enqueued for one"
    " put off after it ran (the mail relay down, a mail refused for now); read at scrape time.",
)
imports = Counter(
    "invitations_imports",
    "Excel imports finished, by outcome (done, previewed: a dry run, refused: its rows had"
    " problems, crashed).",
    ["outcome"],
)
import_duration = Histogram(
    "invitations_import_duration_seconds",
    "Time one run of an import took, by outcome.",
    ["outcome"],
    buckets=_IMPORT_BUCKETS,
)
import_rows = Histogram(
    "invitations_import_rows",
    "Data rows of each import's sheet, by outcome.",
    ["outcome"],
    buckets=_ROW_BUCKETS,
)
rate_limit_refusals = Counter(
    "invitations_rate_limit_refusals",
    "Attempts refused by a rate limit, by limit (its scope: token:address, sign-in:account, ...).",
    ["limit"],
)


# At most this many deferred jobs (the soonest due) are read for their enqueue time at each
# measure: enough to find a long wait, a bounded read for the queue of a huge import.
DEFERRED_LOOKED_AT = 5_000
_CHUNK = 500


async def measure_queue(redis: Any, queue: str) -> None:
    """Read the work queue (a sorted set of job ids scored by when each is due, in ms).

    A job waits from when it falls due; a job that ran and was put off (arq's Retry: the mail
    relay is down, a mail was refused for now, the database did not answer) has waited since
    it was first enqueued, although it is not due yet: the pause is the wait an alert is for.
    A job enqueued for later and never run does not wait before its time."""
    now_ms = time.time() * 1000
    waiting = await redis.zcard(queue)
    oldest = await redis.zrangebyscore(queue, "-inf", now_ms, start=0, num=1, withscores=True)
    oldest_ms = float(oldest[0][1]) if oldest else now_ms
    deferred = await redis.zrangebyscore(
        queue, f"({now_ms}", "+inf", start=0, num=DEFERRED_LOOKED_AT
    )
    for start in range(0, len(deferred), _CHUNK):
        oldest_ms = min(
            oldest_ms,
            await outbox.first_enqueued_of_retried(redis, deferred[start : start + _CHUNK]),
        )
    queue_jobs.set(waiting)
    queue_oldest_job_age.set(max(now_ms - oldest_ms, 0) / 1000)
