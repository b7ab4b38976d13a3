"""The Sender's adapters: templates rendered with jinja2, and two ways of sending mail.

``SmtpMailer`` hands messages to a real mail server (stdlib ``smtplib`` on a worker thread, so
the event loop never waits on the network). ``MailboxMailer`` writes each message as an ``.eml``
file that any mail client opens: the default of ``make run``, which needs no mail server.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from commands.sender import MailRefused, OutgoingMail, Rendered

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_FROM = "PhotoFlow <no-reply@photoflow.local>"


class JinjaRenderer:
    """``<kind>.subject.txt``, ``<kind>.txt`` and, if present, ``<kind>.html``.

    HTML is autoescaped, so a studio name cannot inject markup; an unknown variable is an
    error rather than a blank in someone's inbox.
    """

    def __init__(self, folder: Path = TEMPLATES) -> None:
        self._env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, kind: str, context: Mapping[str, object]) -> Rendered:
        subject = self._env.get_template(f"{kind}.subject.txt").render(context)
        text = self._env.get_template(f"{kind}.txt").render(context)
        try:
            html: str | None = self._env.get_template(f"{kind}.html").render(context)
        except TemplateNotFound:
            html = None
        return Rendered(" ".join(subject.split()), text, html)


def build_message(mail: OutgoingMail, from_address: str) -> EmailMessage:
    """The MIME message: plain text, with an HTML alternative when there is one."""
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


class SmtpMailer:
    """Sends through an SMTP server, one connection per message (mail here is low volume)."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        starttls: bool,
        from_address: str,
        *,
        timeout: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._from = from_address
        self._timeout = timeout

    async def send(self, mail: OutgoingMail) -> None:
        await asyncio.to_thread(self._send, build_message(mail, self._from))

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _ in refused.recipients.values()]
            raise MailRefused(f"recipient refused: {codes}", _permanent(codes)) from refused
        except smtplib.SMTPAuthenticationError as refused:  # our configuration, not the message
            raise MailRefused(f"authentication failed: {refused.smtp_code}") from refused
        except smtplib.SMTPResponseException as refused:
            reply = refused.smtp_error
            if isinstance(reply, bytes):
                reply = reply.decode(errors="replace")
            raise MailRefused(
                f"{refused.smtp_code} {reply}", _permanent([refused.smtp_code])
            ) from refused
        except (smtplib.SMTPException, OSError) as failed:  # unreachable, timed out, cut off
            raise MailRefused(f"{type(failed).__name__}: {failed}") from failed


def _permanent(codes: list[int]) -> bool:
    """5xx replies say the same message will never be accepted; 4xx ones invite a retry."""
    return bool(codes) and all(500 <= code < 600 for code in codes)


class MailboxMailer:
    """Writes each message to ``folder`` as an ``.eml`` file named after its recipient and id.

    The name derives from the Message-ID, so a message re-sent after a crash replaces its
    earlier copy instead of appearing twice.
    """

    def __init__(self, folder: Path, from_address: str = DEFAULT_FROM) -> None:
        self._folder = folder
        self._from = from_address

    async def send(self, mail: OutgoingMail) -> None:
        try:
            await asyncio.to_thread(self._write, build_message(mail, self._from), mail)
        except OSError as failed:  # a full disk is worth a retry, like a busy server
            raise MailRefused(f"cannot write to the mailbox: {failed}") from failed

    def path_of(self, mail: OutgoingMail) -> Path:
        local = mail.message_id.strip("<>").partition("@")[0]
        name = re.sub(r"[^A-Za-z0-9@._-]", "_", f"{mail.recipient}--{local}")
        return self._folder / f"{name}.eml"

    def _write(self, message: EmailMessage, mail: OutgoingMail) -> None:
        self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # links are secrets
        target = self.path_of(mail)
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(message.as_bytes())
        temporary.replace(target)
