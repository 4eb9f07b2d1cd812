"""The patient page's visits and safety signals, and acting on a signal from the page.

Who may act is decided here, once: the role must have ``acknowledge_signal`` (queries.permissions) and,
for a centre editor, the patient's centre must be theirs. The actions themselves are the monitoring
functions (audited in the caller's transaction).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jakreg.monitoring.signals import SignalError, acknowledge_signal, close_signal, list_signals
from jakreg.monitoring.visits import visit_statuses
from jakreg.queries.permissions import may
from jakreg.store.signal_tables import SafetySignal
from jakreg.store.tables import Patient
from jakreg.web.errors import BadInput, Forbidden, NotFound, StaleWrite, WebError
from jakreg.web.scope import Principal, Scope

ACTIONS = ("acknowledge", "close")
NOT_ALLOWED = "your role ({role}) cannot acknowledge or close safety signals"
NOT_YOUR_CENTRE = "you cannot act on safety signals of centre {centre}"
NO_SIGNAL = "there is no safety signal {signal_id} for patient {patient_id}"
NO_VERSION = "the form has no signal version; reload the page"
DONE = {"acknowledge": "acknowledged", "close": "closed"}
DONE_MESSAGE = "Safety signal {signal_id} {done}."


def may_act(principal: Principal, centre: str) -> bool:
    """Acknowledge and close: admins and monitors anywhere, centre editors at their centres."""
    if not may(principal.role, "acknowledge_signal"):
        return False
    return principal.all_centres or centre in principal.centres


def require_act(principal: Principal, centre: str) -> None:
    if not may(principal.role, "acknowledge_signal"):
        raise Forbidden(NOT_ALLOWED.format(role=principal.role.value))
    if not may_act(principal, centre):
        raise Forbidden(NOT_YOUR_CENTRE.format(centre=centre))


def monitoring_context(scope: Scope, patient: Patient, as_of: dt.date) -> dict[str, Any]:
    """The patient's visits as of a date and their signals, for patient.html (the patient is in scope)."""
    centre = scope.centre_of(patient)
    visits = visit_statuses(scope.session, as_of=as_of, patient_pks=[patient.id])
    signals = list_signals(scope.session, patient_pks=[patient.id])
    return {
        "visits": visits,
        "visits_as_of": as_of.isoformat(),
        "visit_protocols": sorted({v.protocol_version for v in visits}),
        "signals": signals,
        "can_act_on_signals": may_act(scope.principal, centre),
    }


def act(scope: Scope, patient_id: str, signal_id: int, action: str, form: dict[str, Any]) -> str:
    """Acknowledge or close one of the patient's signals; the message to show. The caller commits.

    Order of the checks: the patient (404 outside the caller's scope), the role and centre (403), the
    signal belongs to the patient (404), then the action's own checks (state, version, comment)."""
    patient = scope.patient(patient_id)
    require_act(scope.principal, scope.centre_of(patient))
    found = scope.session.get(SafetySignal, signal_id)
    if found is None or found.patient_pk != patient.id:
        raise NotFound(NO_SIGNAL.format(signal_id=signal_id, patient_id=patient_id))
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        raise BadInput(NO_VERSION) from None
    comment = str(form.get("comment", ""))
    user = scope.principal.username
    try:
        if action == "acknowledge":
            acknowledge_signal(scope.session, signal_id, user=user, comment=comment,
                               expected_version=version)  # fmt: skip
        else:
            close_signal(scope.session, signal_id, user=user, comment=comment or None,
                         expected_version=version)  # fmt: skip
    except SignalError as exc:
        raise _web_error(exc) from None
    return DONE_MESSAGE.format(signal_id=signal_id, done=DONE[action])


def _web_error(exc: SignalError) -> WebError:
    if exc.kind == "not_found":
        return NotFound(str(exc))
    if exc.kind in ("stale", "state"):
        return StaleWrite(str(exc))
    return BadInput(str(exc))
