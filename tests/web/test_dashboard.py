"""The dashboard (home page) and the patient page's signals, server-side: scoping (a centre user never sees
another centre's counts), analysts pooled only, every number equal to the monitoring engine's
``centre_summary`` on the same data, the patient lists behind the numbers, acknowledging and closing a
signal (state, audit event, CSRF, roles), bad dates, and the cache following the data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from jakreg.monitoring.signals import derive_signals, list_signals
from jakreg.monitoring.visits import centre_summary, visit_statuses
from jakreg.store import db
from jakreg.store.signal_tables import SafetySignal
from jakreg.store.tables import AuditEvent, Patient, TreatmentCourse
from jakreg.web.dashboard import (
    ALL_CENTRES,
    BAD_AS_OF,
    Dashboard,
    DashboardRow,
    parse_as_of,
    pooled,
)
from jakreg.web.errors import CSRF_FAILED
from jakreg.web.signals_view import NOT_ALLOWED
from tests.web.conftest import page_csrf
from tests.web.webdata import OTHER, OTHER_PATIENT, OWN, OWN_PATIENT, seed

AS_OF = dt.date(2024, 6, 1)
COLUMNS = ("on_drug", "due30", "overdue", "signals", "critical", "completeness")


@pytest.fixture
def seeded_url(db_url: str, tmp_path: Path) -> str:
    """The two-centre study, made unequal: Madrid's course starts later (other visit counts) and
    Barcelona's signal is closed (0 open against Madrid's 1), so a leak would show in the numbers."""
    seed(db_url, tmp_path / "study")
    with db.open_session(db_url) as session:
        derive_signals(session, user="setup")
        mad = session.scalar(select(Patient.id).where(Patient.patient_id == OTHER_PATIENT))
        session.execute(
            update(TreatmentCourse)
            .where(TreatmentCourse.patient_pk == mad)
            .values(start_date=dt.date(2024, 3, 1))
        )
        bcn = session.scalar(select(Patient.id).where(Patient.patient_id == OWN_PATIENT))
        signal = session.scalar(select(SafetySignal.id).where(SafetySignal.patient_pk == bcn))
        assert signal is not None
        from jakreg.monitoring.signals import close_signal

        close_signal(session, signal, user="setup", comment="setup")
        session.commit()
    return db_url


def _table(html: str) -> dict[str, dict[str, str]]:
    """The dashboard's rows: centre -> column -> the cell's text (links stripped)."""
    out: dict[str, dict[str, str]] = {}
    for centre, row in re.findall(r'<tr data-centre="([^"]+)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'<td class="n (\w+)"[^>]*>(.*?)</td>', row, re.S))
        out[centre] = {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells.items()}
    return out


def _engine(url: str, centres: list[str] | None) -> dict[str, dict[str, str]]:
    """What the dashboard must show, from the engine directly (and open signals counted from the list)."""
    with db.open_session(url) as session:
        statuses = visit_statuses(session, as_of=AS_OF, centres=centres)
        summaries = centre_summary(session, as_of=AS_OF, centres=centres, statuses=statuses)
        signals = list_signals(session, centres=centres, states=["open"])
    out = {}
    for s in summaries:
        mine = [x for x in signals if x.centre == s.centre]
        pct = "–" if s.completeness_pct is None else f"{s.completeness_pct:.1f} %"
        out[s.centre] = {
            "on_drug": str(s.patients_on_drug), "due30": str(s.due_next_30_days),
            "overdue": str(s.overdue), "signals": str(len(mine)),
            "critical": str(sum(x.severity == "critical" for x in mine)), "completeness": pct,
        }  # fmt: skip
    return out


def test_numbers_equal_centre_summary_for_every_centre(
    clients: dict[str, TestClient], seeded_url: str
) -> None:
    engine = _engine(seeded_url, None)
    assert engine[OWN] != engine[OTHER]  # the fixture made them differ
    for role in ("admin", "monitor"):
        html = clients[role].get(f"/?as_of={AS_OF}").text
        assert _table(html) == engine, role


@pytest.mark.parametrize("role", ["centre_editor", "centre_viewer"])
def test_centre_user_sees_only_own_centre(
    clients: dict[str, TestClient], seeded_url: str, role: str
) -> None:
    response = clients[role].get(f"/?as_of={AS_OF}")
    assert response.status_code == 200
    assert _table(response.text) == _engine(seeded_url, [OWN])
    assert OTHER not in response.text
    assert OTHER_PATIENT not in response.text
    # the list behind a number of another centre: as if it did not exist
    refused = clients[role].get(f"/?as_of={AS_OF}&centre={OTHER}&show=overdue")
    assert refused.status_code == 404
    assert OTHER_PATIENT not in refused.text


def test_analyst_sees_pooled_totals_only(clients: dict[str, TestClient], seeded_url: str) -> None:
    html = clients["analyst"].get(f"/?as_of={AS_OF}").text
    rows = _table(html)
    assert list(rows) == [ALL_CENTRES]
    engine = _engine(seeded_url, None)
    for column in ("on_drug", "due30", "overdue", "signals", "critical"):
        assert rows[ALL_CENTRES][column] == str(sum(int(r[column]) for r in engine.values()))
    table = html[html.index('id="dashboard"') : html.index("</table>")]
    assert "<a " not in table  # no link to a centre's patients
    assert OWN_PATIENT not in html
    assert OTHER_PATIENT not in html
    refused = clients["analyst"].get(f"/?centre={OWN}&show=on_drug")
    assert refused.status_code == 403


def test_each_number_links_to_the_patients_it_counts(
    clients: dict[str, TestClient], seeded_url: str
) -> None:
    client = clients["centre_editor"]
    html = client.get(f"/?as_of={AS_OF}").text
    numbers = _table(html)[OWN]
    for show in ("on_drug", "due30", "overdue", "signals"):
        link = f"/?as_of={AS_OF}&amp;centre={OWN}&amp;show={show}#concerned"
        assert link in html, show
        page = client.get(link.replace("&amp;", "&")).text
        section = page[page.index('<section id="concerned">') :]
        listed = re.findall(r'<li><a href="/patients/([^"#]+)[^"]*">[^<]+</a>(.*?)</li>', section)
        counted = sum(int(re.sub(r"\D", "", rest) or 1) for _, rest in listed)
        assert counted == int(numbers[show]), show
        assert all(pid == OWN_PATIENT for pid, _ in listed)


def test_bad_date_is_a_clear_400(clients: dict[str, TestClient]) -> None:
    response = clients["admin"].get("/?as_of=31/01/2024")
    assert response.status_code == 400
    today = dt.date.today().isoformat()
    assert BAD_AS_OF.format(value="31/01/2024", today=today).replace("'", "&#39;") in response.text
    assert "Traceback" not in response.text
    assert clients["admin"].get("/?as_of=2024-02-30").status_code == 400
    assert clients["admin"].get("/patients/BCN-01?as_of=soon").status_code == 400


def test_parse_as_of() -> None:
    today = dt.date(2026, 1, 31)
    assert parse_as_of("", today) == today
    assert parse_as_of(" 2024-02-29 ", today) == dt.date(2024, 2, 29)
    for bad in ("2024-2-1", "20240201", "2023-02-29", "yesterday"):
        with pytest.raises(Exception, match="as_of must be a date written YYYY-MM-DD"):
            parse_as_of(bad, today)


def test_pooled_sums_counts_and_recomputes_completeness() -> None:
    a = DashboardRow("A", "a", 2, 1, 3, 1, 1, 6, 1, 60.0)
    b = DashboardRow("B", "b", 1, 0, 0, 2, 0, 1, 0, 100.0)
    out = pooled(Dashboard(AS_OF, [a, b], (), {("A", "overdue"): [("A-1", 3)]}))
    (row,) = out.rows
    assert (row.centre, row.patients_on_drug, row.due_next_30_days, row.overdue) == (
        ALL_CENTRES, 3, 1, 3,
    )  # fmt: skip
    assert (row.open_signals, row.open_critical) == (3, 1)
    assert row.completeness_pct == round(100 * 7 / (7 + 1 + 3), 1)  # not the mean of 60 and 100
    assert out.concerned == {}
    assert out.pooled


def _signal_of(url: str, pid: str) -> tuple[int, str, int]:
    with db.open_session(url) as session:
        row = session.execute(
            select(SafetySignal.id, SafetySignal.state, SafetySignal.version)
            .join(Patient)
            .where(Patient.patient_id == pid)
        ).first()
        assert row is not None
        return row[0], row[1], row[2]


def _audit(url: str, signal_id: int) -> list[tuple[str, str]]:
    with db.open_session(url) as session:
        return [
            (e.action, e.actor)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "safety_signal", AuditEvent.entity_pk == signal_id)
                .order_by(AuditEvent.id)
            )
        ]


def test_acknowledge_then_close_changes_state_and_is_audited(
    clients: dict[str, TestClient], seeded_url: str, app: FastAPI
) -> None:
    # Madrid's editor (otto) acts on Madrid's open signal
    from tests.web.conftest import login

    otto = login(app, "otto")
    signal, state, version = _signal_of(seeded_url, OTHER_PATIENT)
    assert state == "open"
    before = clients["admin"].get(f"/?as_of={AS_OF}").text
    assert _table(before)[OTHER]["signals"] == "1"
    page = otto.get(f"/patients/{OTHER_PATIENT}").text
    assert f'action="/patients/{OTHER_PATIENT}/signals/{signal}/acknowledge"' in page
    csrf = page_csrf(otto)
    r = otto.post(f"/patients/{OTHER_PATIENT}/signals/{signal}/acknowledge",
                  data={"csrf_token": csrf, "version": str(version), "comment": "CBC repeated"})  # fmt: skip
    assert r.status_code == 303
    assert (
        r.headers["location"]
        == f"/patients/{OTHER_PATIENT}?done=acknowledged&signal={signal}#signals"
    )
    shown = otto.get(r.headers["location"]).text
    assert f"Safety signal {signal} acknowledged." in shown
    assert "acknowledged by otto" in shown
    assert "CBC repeated" in shown
    assert _signal_of(seeded_url, OTHER_PATIENT)[1] == "acknowledged"
    assert _audit(seeded_url, signal)[-1] == ("acknowledge", "otto")
    # the dashboard follows at once (the cache is keyed by the audit head)
    assert _table(clients["admin"].get(f"/?as_of={AS_OF}").text)[OTHER]["signals"] == "0"
    # a second acknowledgement from the same (now stale) page: refused, shown on the page, no change
    again = otto.post(f"/patients/{OTHER_PATIENT}/signals/{signal}/acknowledge",
                      data={"csrf_token": csrf, "version": str(version), "comment": "again"})  # fmt: skip
    assert again.status_code == 409
    assert "changed since you loaded it" in again.text
    r = otto.post(f"/patients/{OTHER_PATIENT}/signals/{signal}/close",
                  data={"csrf_token": csrf, "version": str(version + 1), "comment": ""})  # fmt: skip
    assert r.status_code == 303
    assert _signal_of(seeded_url, OTHER_PATIENT)[1] == "closed"
    assert [a for a, _ in _audit(seeded_url, signal)][-2:] == ["acknowledge", "close"]


def test_acknowledge_needs_a_comment(clients: dict[str, TestClient], seeded_url: str) -> None:
    signal, _, version = _signal_of(seeded_url, OTHER_PATIENT)
    r = clients["admin"].post(f"/patients/{OTHER_PATIENT}/signals/{signal}/acknowledge",
                              data={"csrf_token": page_csrf(clients["admin"]),
                                    "version": str(version), "comment": "  "})  # fmt: skip
    assert r.status_code == 422
    assert "acknowledging a signal needs a comment (what was done or checked)" in r.text
    assert _signal_of(seeded_url, OTHER_PATIENT)[1] == "open"


def test_without_csrf_the_form_is_refused(clients: dict[str, TestClient], seeded_url: str) -> None:
    signal, _, version = _signal_of(seeded_url, OTHER_PATIENT)
    path = f"/patients/{OTHER_PATIENT}/signals/{signal}/acknowledge"
    for data in ({"version": str(version), "comment": "x"},
                 {"version": str(version), "comment": "x", "csrf_token": "forged"}):  # fmt: skip
        r = clients["admin"].post(path, data=data)
        assert r.status_code == 403
        assert CSRF_FAILED in r.text
    assert _signal_of(seeded_url, OTHER_PATIENT)[1] == "open"
    assert [a for a, _ in _audit(seeded_url, signal)] == ["create"]


@pytest.mark.parametrize("role", ["centre_viewer", "analyst"])
def test_who_may_not_act_sees_no_forms_and_gets_403(
    clients: dict[str, TestClient], seeded_url: str, role: str
) -> None:
    # the role check comes first: the signal (closed by the fixture) is never reached
    client = clients[role]
    page = client.get(f"/patients/{OWN_PATIENT}").text
    assert 'id="signals"' in page
    assert "signal-action" not in page
    signal, _, version = _signal_of(seeded_url, OWN_PATIENT)
    r = client.post(f"/patients/{OWN_PATIENT}/signals/{signal}/close",
                    data={"csrf_token": page_csrf(client), "version": str(version)})  # fmt: skip
    assert r.status_code == 403
    assert NOT_ALLOWED.format(role=role) in r.text


def test_patient_page_lists_the_engines_visits(
    clients: dict[str, TestClient], seeded_url: str
) -> None:
    html = clients["centre_viewer"].get(f"/patients/{OWN_PATIENT}?as_of={AS_OF}").text
    with db.open_session(seeded_url) as session:
        pk = session.scalar(select(Patient.id).where(Patient.patient_id == OWN_PATIENT))
        assert pk is not None
        visits = visit_statuses(session, as_of=AS_OF, patient_pks=[pk])
    section = html[html.index('<section id="visits">') :]
    section = section[: section.index("</section>")]
    shown = re.findall(r'<tr class="status-(\w+)">', section)
    assert shown == [v.status for v in visits]
    assert shown
    for v in visits:
        if v.missing:
            assert ", ".join(v.missing) in section
    assert f"as of {AS_OF}" in section


def _event(url: str, entity: str, centre: str | None) -> None:
    from jakreg.store.audit import AuditWriter, Change

    with db.open_session(url) as session:
        AuditWriter(session).write(
            Change(actor="t", action="x", entity=entity, entity_key="k", centre=centre)
        )
        session.commit()


def test_cache_recomputes_only_the_centres_a_change_touched(seeded_url: str) -> None:
    from jakreg.web.dashboard import DashboardCache, build_dashboard, changed_centres, data_version

    cache = DashboardCache()
    centres = [OWN, OTHER]
    with db.open_session(seeded_url) as session:
        first = cache.get(session, centres, AS_OF)
        assert first == build_dashboard(session, centres, AS_OF)
        assert (cache.hits, cache.misses) == (0, 2)
        assert cache.get(session, centres, AS_OF) == first
        assert (cache.hits, cache.misses) == (2, 2)
        head = data_version(session)
    _event(seeded_url, "user", None)  # a login: changes no data
    with db.open_session(seeded_url) as session:
        assert data_version(session) == head
        cache.get(session, centres, AS_OF)
    assert cache.misses == 2
    # Madrid's signal acknowledged: Madrid recomputed, Barcelona reused, the numbers follow
    with db.open_session(seeded_url) as session:
        signal = session.scalar(
            select(SafetySignal.id).join(Patient).where(Patient.patient_id == OTHER_PATIENT)
        )
        assert signal is not None
        from jakreg.monitoring.signals import acknowledge_signal

        acknowledge_signal(session, signal, user="t", comment="seen")
        session.commit()
    with db.open_session(seeded_url) as session:
        assert changed_centres(session, head, data_version(session)) == {OTHER}
        after = cache.get(session, centres, AS_OF)
        assert after == build_dashboard(session, centres, AS_OF)
    assert cache.misses == 3
    assert [r.open_signals for r in after.rows] == [0, 0]
    # a change without a centre (a protocol load): every centre recomputed
    _event(seeded_url, "protocol_version", None)
    with db.open_session(seeded_url) as session:
        cache.get(session, centres, AS_OF)
    assert cache.misses == 5
