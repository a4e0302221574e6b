"""Names that tie a mail back to its invitation: its Message-ID and its VERP return path.

`i42.3.<tag>` names the third send of invitation 42 (`r` for its reminder); the tag is a keyed
digest, so a forged bounce or webhook cannot name an invitation it never received mail about.
The same send keeps the same Message-ID across its retries (and a crash's duplicate), so
receiving servers and inboxes can recognise a copy.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from domain.crypto import keyring

_PURPOSE = "mail-reference"
_TAG_LENGTH = 20  # hex digits: 80 bits
_FOUND = re.compile(r"(?<![a-z0-9])([ir])(\d{1,12})\.(\d{1,9})\.([0-9a-f]{20})(?![0-9a-f])")
INVITATION = "i"
REMINDER = "r"


@dataclass(frozen=True, slots=True)
class Reference:
    kind: str  # INVITATION or REMINDER
    invitation_id: int
    send_no: int

    @property
    def text(self) -> str:
        plain = f"{self.kind}{self.invitation_id}.{self.send_no}"
        return f"{plain}.{keyring(_PURPOSE).digest(plain)[:_TAG_LENGTH]}"

    def message_id(self, domain: str) -> str:
        return f"<{self.text}@{domain}>"

    def return_path(self, base: str) -> str:
        """VERP: the deployment's return path with the reference after a '+'."""
        local, _, domain = base.rpartition("@")
        return f"{local}+{self.text}@{domain}"


def find(text: str) -> Reference | None:
    """The reference in a Message-ID or an address, if its tag is ours (any key still
    accepted, so bounces of mails sent before a key rotation are still matched)."""
    for match in _FOUND.finditer(text.lower()):
        kind, invitation_id, send_no, tag = match.groups()
        plain = f"{kind}{invitation_id}.{send_no}"
        if any(
            hmac.compare_digest(tag, digest[:_TAG_LENGTH])
            for digest in keyring(_PURPOSE).lookup_digests(plain)
        ):
            return Reference(kind, int(invitation_id), int(send_no))
    return None
