"""Who may do what with data queries: one table, one function."""

from __future__ import annotations

from jakreg.store.users import Role

ACTIONS = ("read", "raise", "answer", "close", "reopen")

_ALLOWED: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(ACTIONS),
    Role.monitor: frozenset({"read", "raise", "close", "reopen"}),
    Role.centre_editor: frozenset({"read", "answer"}),
    Role.centre_viewer: frozenset({"read"}),
    Role.analyst: frozenset(),  # pooled data only
}
_ALLOWED_SIGNALS = {Role.admin, Role.monitor, Role.centre_editor}  # acknowledge_signal (issue 12)


def may(role: Role | str, action: str) -> bool:
    """May this role do this to a data query at all? (Which centres is the scope's business.)"""
    if action == "acknowledge_signal":
        return role in {r.value for r in _ALLOWED_SIGNALS}
    if action not in ACTIONS:
        raise ValueError(f"unknown query action {action!r}")
    try:
        return action in _ALLOWED[Role(role)]
    except ValueError:
        return False
