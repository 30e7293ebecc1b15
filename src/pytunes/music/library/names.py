"""File names in the local library: what users may call a file, and where that file may live (pure).

Every name that reaches the disk comes from a user (a typed name, an upload's file name, a URL, a
Content-Disposition header), so it is rebuilt here from scratch:

- path separators, NUL, control and invisible formatting characters (bidi overrides that make
  `evil‮3pm.exe` look like `evilexe.mp3`) and the characters Windows forbids become `_`;
- leading and trailing dots and whitespace are trimmed, so no name is hidden, `.` or `..`;
- Windows device names (`CON`, `NUL`, `COM1`…) get a `_` prefix, so a library copied to Windows works;
- the stem is shortened to `MAX_NAME_CHARS` characters and `MAX_NAME_BYTES` UTF-8 bytes, leaving room
  for a collision suffix " (999)" below every file system's 255-byte limit;
- only `AUDIO_EXTENSIONS` are kept as extensions.

`safe_path` is the one way from a name to a path: it refuses anything that is not a plain, sanitized
name, or that resolves (symlinks followed) anywhere but directly inside the library folder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

# The reference bot's six, plus WebM (what most web audio is, Opus inside); FFmpeg decides the real
# format anyway.
AUDIO_EXTENSIONS = ("mp3", "wav", "flac", "ogg", "m4a", "opus", "webm")
DEFAULT_EXTENSION = "mp3"
DEFAULT_STEM = "download"
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 180
MAX_COLLISIONS = 999

_WINDOWS_FORBIDDEN = frozenset('<>:"|?*/\\')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{i}" for i in [*"123456789", "¹", "²", "³"]}
    | {f"lpt{i}" for i in [*"123456789", "¹", "²", "³"]}
)
_COLLISION = re.compile(r"^(?P<stem>.*) \((?P<n>[0-9]{1,3})\)$")

# Content types of audio and the extension a file of that type gets (the reference bot's list, extended).
CONTENT_TYPE_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mpeg3": "mp3",
    "audio/x-mpeg-3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/ogg": "ogg",
    "application/ogg": "ogg",
    "audio/vorbis": "ogg",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/m4a": "m4a",
    "audio/aac": "m4a",
    "audio/opus": "opus",
    "audio/webm": "webm",
    "video/webm": "webm",
}
# FFmpeg's codec name (from `probe_codec`) → the extension a file of unknown type gets.
CODEC_EXTENSIONS = {
    "mp3": "mp3",
    "flac": "flac",
    "vorbis": "ogg",
    "opus": "opus",
    "aac": "m4a",
    "alac": "m4a",
}


class BadNameError(ValueError):
    """A name that cannot be used; the message can be shown to users."""


def _replace_bad(ch: str) -> str:
    if ch in _WINDOWS_FORBIDDEN:
        return "_"
    category = unicodedata.category(ch)
    # Cc control, Cf format (bidi overrides, zero-width), Cs lone surrogates, Co private use, Cn unassigned.
    if category.startswith("C") or category in ("Zl", "Zp"):
        return "_"
    if ch.isspace():
        return " "  # tabs, NBSP and friends become a plain space
    return ch


def _clip_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def split_name(name: str) -> tuple[str, str | None]:
    """(stem, audio extension as written) — the extension is None when it is not an audio one."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.lower() in AUDIO_EXTENSIONS:
        return stem, ext
    return name, None


def audio_extension(name: str) -> str | None:
    """The audio extension of `name` in lower case, or None."""
    ext = split_name(name)[1]
    return ext.lower() if ext else None


def clean_stem(raw: str) -> str:
    """A stem made safe: no separators or control characters, trimmed, not reserved, not too long."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(_replace_bad(ch) for ch in text)
    text = re.sub(r" {2,}", " ", text).strip(" .")
    if text.split(".", 1)[0].rstrip(" ").casefold() in _RESERVED:
        text = f"_{text}"
    text = _clip_bytes(text[:MAX_NAME_CHARS], MAX_NAME_BYTES).rstrip(" .")
    return text


def sanitize(raw: str, *, default_extension: str | None = DEFAULT_EXTENSION) -> str:
    """A safe file name for `raw`. It keeps `raw`'s own audio extension, else gets `default_extension`.

    Raises `BadNameError` when `default_extension` is None and `raw` has no audio extension.
    """
    # Separators become "_" like every other unsafe character ("AC/DC" → "AC_DC"), so "../x" is "_x".
    text = unicodedata.normalize("NFC", raw)
    stem, ext = split_name(text.strip().rstrip(" ."))
    ext = ext.lower() if ext else default_extension
    if ext is None:
        raise BadNameError(f"Use one of these extensions: {', '.join(AUDIO_EXTENSIONS)}.")
    # A stem that was nothing but dots, spaces or control characters becomes the default.
    stem = clean_stem(stem) or DEFAULT_STEM
    return f"{stem}.{ext}"


def unique_name(name: str, taken: Callable[[str], bool]) -> str:
    """`name`, or `name (n)` for the smallest free n ≤ 999 (compared case-insensitively by `taken`)."""
    if not taken(name):
        return name
    stem, ext = split_name(name)
    match = _COLLISION.match(stem)
    base = match.group("stem") if match else stem
    for n in range(1, MAX_COLLISIONS + 1):
        candidate = f"{base} ({n}).{ext}" if ext else f"{base} ({n})"
        if not taken(candidate):
            return candidate
    raise BadNameError(f"There are too many files called “{base}”; choose another name.")


def content_type_extension(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return CONTENT_TYPE_EXTENSIONS.get(content_type.split(";", 1)[0].strip().lower())


def is_plain_name(name: str) -> bool:
    """Whether `name` can only mean a file directly in a folder: one path component, not hidden, no
    NUL. Looser than `sanitize` on purpose: files the operator put in the library ("Live: 1999.mp3")
    stay playable; names users choose always go through `sanitize` first."""
    return (
        bool(name)
        and not name.startswith(".")
        and not any(ch in name for ch in "/\\\0")
        and len(name.encode("utf-8", errors="surrogateescape")) <= 255
    )


def safe_path(root: Path, name: str) -> Path:
    """The path of library file `name`, guaranteed to be directly inside `root`.

    Refuses (`BadNameError`) names that are not plain sanitized names, and names whose path resolves
    elsewhere, e.g. a symlink someone put in the library that points outside it.
    """
    if not is_plain_name(name):
        raise BadNameError("That is not a valid library file name.")
    base = root.resolve()
    path = base / name
    try:
        resolved = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a symlink loop
        raise BadNameError("That library file can't be opened.") from None
    if resolved.parent != base:
        raise BadNameError("That library file is outside the library folder.")
    return path
