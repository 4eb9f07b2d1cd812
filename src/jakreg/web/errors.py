"""Errors of the server and the exact words users see; tests assert these constants word for word."""

from __future__ import annotations

from jakreg.errors import JakregError

# --- messages (the contract: pages, the API and the tests share these) -----------------------------
LOGIN_FAILED = "unknown user name or wrong password"
LOGIN_LOCKED = "too many failed logins for this user name; try again in {minutes} minutes"
LOGIN_REQUIRED = "log in first"
API_TOKEN_REQUIRED = (
    "send an API token: Authorization: Bearer <token> (make one on your account page)"  # noqa: S105 (a message, not a secret)
)
API_TOKEN_INVALID = "the API token is unknown, revoked or its user is disabled"  # noqa: S105 (a message, not a secret)
CSRF_FAILED = "the form has expired or did not come from this site; reload the page and try again"
NO_PATIENT = "there is no patient {patient_id} that you may see"
NO_RECORD = "there is no {sheet} record {pk} for patient {patient_id}"
NO_SHEET = "{sheet!r} is not a sheet of the study; use one of: {sheets}"
ROLE_CANNOT_EDIT = "your role ({role}) cannot change records"
CENTRE_NOT_YOURS = "you cannot change records of centre {centre}"
ADMIN_ONLY = "only an admin can do this"
NO_AUDIT_ACCESS = "analysts see pooled data only, not the audit trail"
NO_AUDIT_ACCESS_MONITOR = (
    "monitors see data without local ids, so not the audit trail (it holds them)"
)
LOCKED = (
    "patient {patient_id} is locked by {by} since {at}; it is read-only until an admin unlocks it"
)
ALREADY_LOCKED = "patient {patient_id} is already locked by {by} since {at}"
NOT_LOCKED = "patient {patient_id} is not locked"
STALE = (
    "this {sheet} record was changed by someone else since you opened it "
    "(you had version {had}, it is now version {now}); reload it and make your change again"
)
GONE = "this {sheet} record was deleted by someone else since you opened it"
HAS_DEPENDENTS = "this {sheet} record still has {dependents}; delete those first"
KEY_TAKEN = "a {sheet} record with this {columns} already exists"
KEY_TAKEN_FIX = "edit that record instead, or change the {columns}"
FIXED_ON_EDIT = "{column} cannot be changed once the record exists"
UPLOAD_TOO_LARGE = "the file is larger than {mb} MB; split it by centre"
UPLOAD_KIND = "upload a study workbook (.xlsx, .xls, .ods) or one sheet as .csv"
EXPORT_CENTRE = "choose one of your centres to export: {centres}"


class WebError(JakregError):
    """An error a user of the server caused; ``status`` is its HTTP status."""

    status = 400


class LoginRequired(WebError):
    status = 401


class NotFound(WebError):
    status = 404


class Forbidden(WebError):
    status = 403


class RecordLocked(WebError):
    status = 423


class StaleWrite(WebError):
    status = 409


class BadInput(WebError):
    status = 422


class ConfigurationError(JakregError):
    """The server cannot start as configured (e.g. no secret key outside development)."""


class AccountError(JakregError):
    """A user-management request that cannot be done (unknown user, weak password, bad role)."""


class LoginFailed(JakregError):
    """Wrong user name or password, or the name is locked out; the message says which to the user."""
