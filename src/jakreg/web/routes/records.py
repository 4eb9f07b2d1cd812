"""Forms to add, edit and delete each entity: patients, their records, and (admins) centres.

Every form validates with the importer's code (jakreg.web.entry.check_record) and shows each problem next
to its field in the importer's words; a stale version is refused with 409.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from jakreg.model.sheets import SHEETS_BY_NAME, SheetSpec
from jakreg.store.tables import Centre
from jakreg.web import errors
from jakreg.web.deps import Web, WebUser, form_fields
from jakreg.web.entry import (
    Checked,
    check_record,
    create_record,
    delete_record,
    fixed_columns,
    update_record,
    with_pseudonym,
)
from jakreg.web.errors import BadInput, NotFound
from jakreg.web.forms import field_views, form_values
from jakreg.web.pages import render
from jakreg.web.scope import CHILD_SHEETS, sheet_spec

router = APIRouter(include_in_schema=False)

CENTRES = SHEETS_BY_NAME["centres"]
PATIENTS = SHEETS_BY_NAME["patients"]


def _child_spec(sheet: str) -> SheetSpec:
    if sheet not in CHILD_SHEETS:
        raise NotFound(errors.NO_SHEET.format(sheet=sheet, sheets=", ".join(CHILD_SHEETS)))
    return sheet_spec(sheet)


def _version(form: dict[str, Any]) -> int:
    try:
        return int(str(form.get("version", "")))
    except ValueError:
        raise BadInput("the form has no record version; reload the page") from None


def _form(
    request: Request,
    who: WebUser,
    spec: SheetSpec,
    values: dict[str, Any],
    *,
    action: str,
    title: str,
    back: str,
    checked: Checked | None = None,
    version: int | None = None,
    fixed: frozenset[str] = frozenset(),
    hidden: frozenset[str] = frozenset(),
    delete: str | None = None,
    centre_choices: list[str] | None = None,
) -> Response:
    columns = list(spec.columns)
    return render(
        request,
        "form.html",
        {
            "who": who,
            "title": title,
            "action": action,
            "back": back,
            "fields": field_views(spec, values, checked=checked, fixed=fixed, hidden=hidden),
            "general": checked.general(columns) if checked is not None else [],
            "n_problems": len(checked.problems) if checked is not None else 0,
            "version": version,
            "delete": delete,
            "centre_choices": centre_choices,
        },
        status=422 if checked is not None and not checked.ok else 200,
    )


def _editable_centres(who: WebUser) -> list[str]:
    if who.principal.is_admin:
        return [c.centre for c in who.scope.centres()]
    return sorted(who.principal.centres)


# --- patients ------------------------------------------------------------------------------------


@router.get("/new-patient")
def new_patient_form(request: Request, who: Web) -> Response:
    choices = _editable_centres(who)
    if choices:
        who.scope.require_edit_centre(choices[0])
    else:
        who.scope.require_edit_centre("")
    return _form(
        request, who, PATIENTS, {"centre": choices[0] if choices else ""},
        action="/new-patient", title="New patient", back="/patients", centre_choices=choices,
    )  # fmt: skip


@router.post("/new-patient")
async def new_patient(request: Request, who: Web) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        values = form_values(form, PATIENTS)
        centre = str(values.get("centre", ""))
        who.scope.require_edit_centre(centre)
        given = with_pseudonym(who.scope, values)  # none given: the server allocates one
        checked = check_record(
            who.scope.session, PATIENTS, given, centre=centre, existing=who.scope.existing()
        )
        if not checked.ok:
            return _form(
                request, who, PATIENTS, values, action="/new-patient", title="New patient",
                back="/patients", checked=checked, centre_choices=_editable_centres(who),
            )  # fmt: skip
        create_record(who.scope, PATIENTS, checked)
        who.scope.session.commit()
        return RedirectResponse(f"/patients/{given['patient_id']}", status_code=303)

    return await run_in_threadpool(run)


@router.get("/patients/{patient_id}/edit")
def edit_patient_form(request: Request, patient_id: str, who: Web) -> Response:
    patient = who.scope.patient(patient_id)
    who.scope.require_edit(patient)
    return _form(
        request, who, PATIENTS, who.scope.values("patients", patient),
        action=f"/patients/{patient_id}/edit", title=f"Edit patient {patient_id}",
        back=f"/patients/{patient_id}", version=patient.version, fixed=fixed_columns("patients"),
    )  # fmt: skip


@router.post("/patients/{patient_id}/edit")
async def edit_patient(request: Request, patient_id: str, who: Web) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        scope = who.scope
        patient = scope.patient(patient_id)
        scope.require_edit(patient)
        version = _version(form)
        current = scope.values("patients", patient)
        values = form_values(form, PATIENTS)
        for column in fixed_columns("patients"):
            values[column] = current[column]
        checked = check_record(
            scope.session, PATIENTS, values, centre=scope.centre_of(patient), editing=patient,
            existing=scope.existing(),
        )  # fmt: skip
        if not checked.ok:
            return _form(
                request, who, PATIENTS, values, action=f"/patients/{patient_id}/edit",
                title=f"Edit patient {patient_id}", back=f"/patients/{patient_id}",
                checked=checked, version=version, fixed=fixed_columns("patients"),
            )  # fmt: skip
        update_record(scope, PATIENTS, patient, checked, version)
        scope.session.commit()
        return RedirectResponse(f"/patients/{patient_id}", status_code=303)

    return await run_in_threadpool(run)


# --- a patient's records -------------------------------------------------------------------------


@router.get("/patients/{patient_id}/{sheet}/new")
def new_record_form(request: Request, patient_id: str, sheet: str, who: Web) -> Response:
    spec = _child_spec(sheet)
    patient = who.scope.patient(patient_id)
    who.scope.require_edit(patient)
    return _form(
        request, who, spec, {"patient_id": patient_id},
        action=f"/patients/{patient_id}/{sheet}/new", title=f"New {sheet} record for {patient_id}",
        back=f"/patients/{patient_id}", hidden=frozenset({"patient_id"}),
    )  # fmt: skip


@router.post("/patients/{patient_id}/{sheet}/new")
async def new_record(request: Request, patient_id: str, sheet: str, who: Web) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        scope = who.scope
        spec = _child_spec(sheet)
        patient = scope.patient(patient_id)
        scope.require_edit(patient)
        values = form_values(form, spec)
        values["patient_id"] = patient.patient_id
        checked = check_record(
            scope.session, spec, values, centre=scope.centre_of(patient), existing=scope.existing()
        )
        if not checked.ok:
            return _form(
                request, who, spec, values, action=f"/patients/{patient_id}/{sheet}/new",
                title=f"New {sheet} record for {patient_id}", back=f"/patients/{patient_id}",
                checked=checked, hidden=frozenset({"patient_id"}),
            )  # fmt: skip
        create_record(scope, spec, checked)
        scope.session.commit()
        return RedirectResponse(f"/patients/{patient_id}#{sheet}", status_code=303)

    return await run_in_threadpool(run)


@router.get("/patients/{patient_id}/{sheet}/{pk}/edit")
def edit_record_form(request: Request, patient_id: str, sheet: str, pk: int, who: Web) -> Response:
    spec = _child_spec(sheet)
    patient = who.scope.patient(patient_id)
    obj = who.scope.record(sheet, pk, patient)
    who.scope.require_edit(patient)
    base = f"/patients/{patient_id}/{sheet}/{pk}"
    return _form(
        request, who, spec, who.scope.values(sheet, obj), action=f"{base}/edit",
        title=f"Edit {sheet} record of {patient_id}", back=f"/patients/{patient_id}",
        version=obj.version, fixed=fixed_columns(sheet), hidden=frozenset({"patient_id"}),  # type: ignore[attr-defined]
        delete=f"{base}/delete",
    )  # fmt: skip


@router.post("/patients/{patient_id}/{sheet}/{pk}/edit")
async def edit_record(request: Request, patient_id: str, sheet: str, pk: int, who: Web) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        scope = who.scope
        spec = _child_spec(sheet)
        patient = scope.patient(patient_id)
        obj = scope.record(sheet, pk, patient)
        scope.require_edit(patient)
        version = _version(form)
        current = scope.values(sheet, obj)
        values = form_values(form, spec)
        for column in fixed_columns(sheet):
            values[column] = current[column]
        checked = check_record(
            scope.session, spec, values, centre=scope.centre_of(patient), editing=obj,
            existing=scope.existing(),
        )  # fmt: skip
        base = f"/patients/{patient_id}/{sheet}/{pk}"
        if not checked.ok:
            return _form(
                request, who, spec, values, action=f"{base}/edit",
                title=f"Edit {sheet} record of {patient_id}", back=f"/patients/{patient_id}",
                checked=checked, version=version, fixed=fixed_columns(sheet),
                hidden=frozenset({"patient_id"}), delete=f"{base}/delete",
            )  # fmt: skip
        update_record(scope, spec, obj, checked, version)
        scope.session.commit()
        return RedirectResponse(f"/patients/{patient_id}#{sheet}", status_code=303)

    return await run_in_threadpool(run)


@router.post("/patients/{patient_id}/{sheet}/{pk}/delete")
async def delete_record_route(
    request: Request, patient_id: str, sheet: str, pk: int, who: Web
) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        scope = who.scope
        spec = _child_spec(sheet)
        patient = scope.patient(patient_id)
        obj = scope.record(sheet, pk, patient)
        scope.require_edit(patient)
        delete_record(scope, spec, obj, _version(form))
        scope.session.commit()
        return RedirectResponse(f"/patients/{patient_id}#{sheet}", status_code=303)

    return await run_in_threadpool(run)


# --- centres (admins) ----------------------------------------------------------------------------


@router.get("/new-centre")
def new_centre_form(request: Request, who: Web) -> Response:
    who.scope.require_admin()
    return _form(
        request, who, CENTRES, {}, action="/new-centre", title="New centre", back="/patients"
    )


@router.post("/new-centre")
async def new_centre(request: Request, who: Web) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        who.scope.require_admin()
        values = form_values(form, CENTRES)
        checked = check_record(
            who.scope.session, CENTRES, values, centre=None, existing=who.scope.existing()
        )
        code = str(values.get("centre", ""))
        if checked.ok and who.scope.session.scalar(
            who.scope.select(Centre).where(Centre.centre == code)
        ):
            raise BadInput(errors.KEY_TAKEN.format(sheet="centres", columns="centre"))
        if not checked.ok:
            return _form(
                request, who, CENTRES, values, action="/new-centre", title="New centre",
                back="/patients", checked=checked,
            )  # fmt: skip
        create_record(who.scope, CENTRES, checked)
        who.scope.session.commit()
        return RedirectResponse("/patients", status_code=303)

    return await run_in_threadpool(run)
