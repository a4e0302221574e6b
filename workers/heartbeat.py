"""Each worker's heartbeat in Redis, one key a worker, for `invitations worker --check`.

arq's health check writes one key a queue, which stays fresh while any replica lives (a stuck
one included); keyed by the worker's host name instead, each container answers for its own.
Light on purpose: the check imports it, not the worker's jobs.
"""

from __future__ import annotations

import os
import socket

from arq.constants import default_queue_name, health_check_key_suffix


def worker_name() -> str:
    """What tells this worker from the others: the host name (a container's, where each
    container runs one worker: Docker sets HOSTNAME; else the system's)."""
    return os.environ.get("HOSTNAME") or socket.gethostname()


def heartbeat_key(name: str | None = None) -> str:
    return f"{default_queue_name}{health_check_key_suffix}:{name or worker_name()}"
