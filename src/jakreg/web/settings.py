"""Server settings, read once at start; outside development a real secret key is required."""

from __future__ import annotations

import os
from dataclasses import dataclass

from jakreg.ingest.archive import ArchiveLimits
from jakreg.web.errors import ConfigurationError

SECRET_ENV = "JAKREG_SECRET_KEY"  # noqa: S105 (a message, not a secret)
DEV_SECRET = "jakreg-development-only-secret-do-not-deploy"  # noqa: S105 (refused outside --dev)
MIN_SECRET_LENGTH = 32
SECRET_MISSING = (
    f"set {SECRET_ENV} to a random secret of at least {MIN_SECRET_LENGTH} characters "
    "(python -c 'import secrets; print(secrets.token_urlsafe(48))'); "
    "only `jakreg serve --dev` runs without one"
)
SECRET_IS_DEFAULT = f"{SECRET_ENV} is the development default; set a random secret of your own"


@dataclass(frozen=True)
class Settings:
    db_url: str
    secret_key: str
    dev: bool = False
    session_hours: float = 8.0
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    upload_limit_mb: int = 20  # the file as sent
    upload_max_inflated_mb: int = 200  # an .xlsx/.ods as unpacked (checked before it is parsed)
    upload_max_rows: int = 100_000  # rows in one sheet of an uploaded workbook
    min_password_length: int = 12

    @property
    def upload_limits(self) -> ArchiveLimits:
        """What an uploaded workbook may unpack to: checked before the spreadsheet is parsed."""
        return ArchiveLimits(
            max_inflated_bytes=self.upload_max_inflated_mb * 1024 * 1024,
            max_ratio=100.0,
            max_rows_per_sheet=self.upload_max_rows,
        )

    @property
    def cookie_secure(self) -> bool:
        # Outside development the server sits behind TLS (docs/deploy.md), so cookies go over HTTPS only.
        return not self.dev


def load_settings(db_url: str, *, dev: bool = False, secret: str | None = None) -> Settings:
    """Settings from the environment; raises ConfigurationError on a missing or default secret."""
    key = secret if secret is not None else os.environ.get(SECRET_ENV, "")
    if not dev:
        if not key or len(key) < MIN_SECRET_LENGTH:
            raise ConfigurationError(SECRET_MISSING)
        if key == DEV_SECRET:
            raise ConfigurationError(SECRET_IS_DEFAULT)
    return Settings(db_url=db_url, secret_key=key or DEV_SECRET, dev=dev)
