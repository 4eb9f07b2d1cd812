"""The jakreg command line: parse arguments, call the library, translate its exceptions once.

One module per job registers its commands on the shared ``app`` (jakreg.cli.base); importing them here
fixes the order in which ``jakreg --help`` lists them.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from pathlib import Path

from jakreg import __version__
from jakreg.cli import audit, data, reports, scores, server, users  # noqa: F401  (register commands)
from jakreg.cli import monitoring as _monitoring  # noqa: F401  (p-visits: protocol and monitor)
from jakreg.cli import notify as _notify  # noqa: F401  (quality branch: data quality and e-mail)
from jakreg.cli import quality as _quality  # noqa: F401
from jakreg.cli import signals as _signals  # noqa: F401  (p-signals: safety signals)
from jakreg.cli.base import app, err
from jakreg.errors import JakregError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: no traceback ever reaches a user."""
    try:
        app()
    except JakregError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted; nothing half-written (imports are all or nothing)")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: log it, say where
        log = Path(os.environ.get("JAKREG_ERROR_LOG", "jakreg-error.log"))
        try:
            log.write_text(
                f"{dt.datetime.now(dt.UTC).isoformat()} jakreg {__version__}\n"
                + "".join(traceback.format_exception(exc))
            )
            where = f"details in {log}"
        except OSError:
            where = "no log could be written"
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} ({where}); "
            "please report it to the jakreg developers",
            highlight=False,
        )
        sys.exit(70)
