"""Reading what the Sender wrote to a mailbox folder, as a person opening their mail would."""

from __future__ import annotations

import email
import re
from email.message import Message
from pathlib import Path

LINK = re.compile(r"/invite/([A-Za-z0-9._-]+)")


def messages_to(folder: Path, address: str) -> list[Message]:
    if not folder.exists():
        return []
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if address.lower() in str(message["To"]).lower():
            found.append(message)
    return found


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode() if isinstance(payload, bytes) else str(payload)
    return ""


def invitation_link_token(message: Message) -> str:
    found = LINK.search(text_of(message))
    assert found, "no invitation link in the mail"
    return found.group(1)
