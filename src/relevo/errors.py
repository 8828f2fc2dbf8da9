"""The exceptions Relevo raises to its users.

Every error an adapter (CLI, API) can show derives from RelevoError and carries a message
that names what is wrong. Adapters print it and exit non-zero (or answer 4xx); they never
show a traceback for a RelevoError.
"""


class RelevoError(Exception):
    """A problem the user can act on; the message says what and where."""


class NotFound(RelevoError):
    """An unknown service, version, tag or file."""


class Conflict(RelevoError):
    """The request contradicts what is already recorded (e.g. identical content registered)."""


class Busy(Conflict):
    """The same thing is being done right now (a retry racing its first request): retry in a moment."""


class AlreadyRegistered(Conflict):
    """Identical content is already a version of the service; .version names it."""

    def __init__(self, message: str, version: str) -> None:
        super().__init__(message)
        self.version = version


class InvalidInput(RelevoError):
    """A file, spec or value that does not validate."""


class IntegrityFailure(RelevoError):
    """An artifact whose files no longer match their recorded hashes."""


class StoreUnavailable(RelevoError):
    """The database cannot be reached or is not initialised."""


class Refused(RelevoError):
    """A policy forbids the action (e.g. loading an untrusted pickle)."""
