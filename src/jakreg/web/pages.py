"""Template rendering: one Jinja2 environment with autoescaping on for every template."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from jakreg import __version__
from jakreg.web.entry import SHEET_TITLES
from jakreg.web.scope import shown_time

_env = Environment(
    loader=FileSystemLoader(str(resources.files("jakreg.web") / "templates")),
    autoescape=True,  # text a centre typed never becomes markup
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(jakreg_version=__version__, titles=SHEET_TITLES, shown_time=shown_time)


def render(
    request: Request, name: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    who = context.get("who")
    full = {
        "request": request,
        "who": who,
        "csrf_token": getattr(who, "csrf_token", context.get("csrf_token", "")),
        **context,
    }
    return HTMLResponse(_env.get_template(name).render(full), status_code=status)
