"""Named exceptions the library raises; the CLI and the web layer translate them once, at the edge."""


class JakregError(Exception):
    """Base of every error jakreg reports to a user."""


class DatabaseError(JakregError):
    """The database cannot be opened, created, upgraded or written."""


class InputFileError(JakregError):
    """A file given to jakreg cannot be read as what it claims to be."""


class SelectionError(JakregError):
    """The analysis was asked for patients the database cannot give (an unknown centre code, an
    empty selection when an empty report was not allowed)."""
