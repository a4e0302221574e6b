"""The jobs that send invitations and reminders: their deterministic ids, and the send jobs
of new invitations."""

from __future__ import annotations

from collections.abc import Sequence

from domain import outbox
from domain.invitations import writer


def enqueue_sends(ids: Sequence[int], rows: Sequence[writer.NewInvitation]) -> None:
    """The send jobs of new invitations, run once the caller's transaction has committed."""
    to_send = [i for i, row in zip(ids, rows, strict=True) if row.send_email]
    for start in range(0, len(to_send), SEND_BATCH):
        batch = to_send[start : start + SEND_BATCH]
        outbox.enqueue("send_invitations", 1, *batch, job_id=send_batch_job_id(batch, 1))


# New invitations are sent by jobs of up to this many: one mail after another over the same
# connection, their database work done together, instead of one job (and its Redis round
# trips) per mail. Resends and the sweep's recoveries are single sends.
SEND_BATCH = 100


def send_job_id(invitation_id: int, send_no: int) -> str:
    return f"send:{invitation_id}:{send_no}"


def send_batch_job_id(invitation_ids: Sequence[int], send_no: int) -> str:
    # An invitation is in exactly one creation batch, so its first id and size name it.
    return f"send:{invitation_ids[0]}+{len(invitation_ids)}:{send_no}"


def reminder_job_id(invitation_id: int, send_no: int) -> str:
    return f"remind:{invitation_id}:{send_no}"
