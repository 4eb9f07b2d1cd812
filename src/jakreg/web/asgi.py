"""The app for `uvicorn jakreg.web.asgi:app --workers N`: settings from the environment.

$JAKREG_DATABASE_URL names the database, $JAKREG_SECRET_KEY the secret; $JAKREG_DEV=1 runs without one.
"""

from __future__ import annotations

import os

from jakreg.store.db import database_url
from jakreg.web.app import create_app
from jakreg.web.settings import load_settings

app = create_app(load_settings(database_url(), dev=os.environ.get("JAKREG_DEV") == "1"))
