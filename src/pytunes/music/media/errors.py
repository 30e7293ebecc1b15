"""Media failures, each carrying a message that can be shown to users as it is.

`message` is safe to reply with (no stack traces, URLs with keys or internal addresses beyond what the
user typed); `detail` is for logs only.
"""

from __future__ import annotations

from typing import ClassVar


class MediaError(Exception):
    """Resolution or playback preparation failed; `message` explains it to the user."""

    code: ClassVar[str] = "failed"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, detail={self.detail!r})"


class EmptyQueryError(MediaError):
    code = "empty_query"


class QueryTooLongError(MediaError):
    code = "too_long"


class UnsafeUrlError(MediaError):
    """The link is not http(s), is malformed, or points at a non-public address."""

    code = "unsafe_url"


class UnsupportedSourceError(MediaError):
    code = "unsupported"


class NoResultsError(MediaError):
    code = "no_results"


class UnreachableError(MediaError):
    """The host could not be resolved or connected to."""

    code = "unreachable"


class ResolveTimeoutError(MediaError):
    code = "timeout"


class QuotaExceededError(MediaError):
    """The YouTube Data API key ran out of quota; distinct so the bot can say "try later"."""

    code = "quota"


class ExtractionError(MediaError):
    code = "failed"


class WorkerCrashedError(ExtractionError):
    code = "crashed"


ERRORS_BY_CODE: dict[str, type[MediaError]] = {
    cls.code: cls
    for cls in (
        EmptyQueryError,
        QueryTooLongError,
        UnsafeUrlError,
        UnsupportedSourceError,
        NoResultsError,
        UnreachableError,
        ResolveTimeoutError,
        QuotaExceededError,
        ExtractionError,
        WorkerCrashedError,
    )
}


def error_for(code: str, message: str, detail: str | None = None) -> MediaError:
    """Rebuild an error from its code (worker processes return codes, not exception objects)."""
    return ERRORS_BY_CODE.get(code, ExtractionError)(message, detail=detail)


# --- Spotify (these never cross the worker-process boundary, but stay rebuildable like the rest) -------


class NotConfiguredError(MediaError):
    """A source needs operator settings that are missing (Spotify without client credentials)."""

    code = "not_configured"


class RateLimitedError(MediaError):
    """A service asked us to slow down for longer than is worth waiting inside one command."""

    code = "rate_limited"


ERRORS_BY_CODE.update({cls.code: cls for cls in (NotConfiguredError, RateLimitedError)})
