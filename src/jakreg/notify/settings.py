"""SMTP settings from the environment, checked before anything is sent."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from jakreg.errors import JakregError

FREQUENCIES = ("immediate", "daily", "none")


class NotifySettingsError(JakregError):
    """An SMTP setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = "jakreg@localhost"
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    base_url: str = ""
    timeout: float = 30.0
    retries: int = 3  # attempts per digest per run after a refused or dropped connection
    backoff: float = 2.0  # seconds before the first retry, doubled each time

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """JAKREG_SMTP_HOST (required), _PORT, _FROM, _STARTTLS (yes/no), _USER, _PASSWORD; JAKREG_BASE_URL."""
        e = os.environ if env is None else env
        host = e.get("JAKREG_SMTP_HOST", "").strip()
        if not host:
            raise NotifySettingsError(
                "JAKREG_SMTP_HOST is not set: give the SMTP server's host name"
            )
        raw_port = e.get("JAKREG_SMTP_PORT", "587").strip()
        if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            raise NotifySettingsError(
                f"JAKREG_SMTP_PORT is {raw_port!r}: give a port number from 1 to 65535"
            )
        sender = e.get("JAKREG_SMTP_FROM", "jakreg@localhost").strip()
        if "@" not in sender or " " in sender:
            raise NotifySettingsError(f"JAKREG_SMTP_FROM is {sender!r}: give an e-mail address")
        tls = e.get("JAKREG_SMTP_STARTTLS", "yes").strip().lower()
        if tls not in ("yes", "no"):
            raise NotifySettingsError(f"JAKREG_SMTP_STARTTLS is {tls!r}: give yes or no")
        user = e.get("JAKREG_SMTP_USER") or None
        password = e.get("JAKREG_SMTP_PASSWORD") or None
        if (user is None) != (password is None):
            raise NotifySettingsError(
                "JAKREG_SMTP_USER and JAKREG_SMTP_PASSWORD go together: set both or neither"
            )
        base = e.get("JAKREG_BASE_URL", "").strip().rstrip("/")
        return cls(host=host, port=int(raw_port), sender=sender, starttls=tls == "yes",
                   username=user, password=password, base_url=base)  # fmt: skip
