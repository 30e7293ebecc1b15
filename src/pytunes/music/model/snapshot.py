"""What of a player survives a restart, and its JSON form.

A `Snapshot` holds what users would miss after a restart: the current track, the queue, the history and
whether playback was paused. Volume, silent and normalize are settings with their own table; timers and
generations are per process and start afresh. Where the current track had got to is not in here: it
changes every frame, so the service checkpoints it on its own, much more often than the rest.

Pure: no I/O. Decoding is forgiving on purpose: a row written by an older or newer PyTunes (a source kind
that no longer exists, a field it does not know) costs that one entry, never the whole restore.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pytunes.music.model.track import Requester, SourceKind, Track

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_TRACK_FIELDS = {f.name for f in dataclasses.fields(Track)}


@dataclass(frozen=True, slots=True)
class Snapshot:
    current: Track | None = None
    queue: tuple[Track, ...] = ()
    history: tuple[Track, ...] = ()  # newest first, like `Player.history`
    paused: bool = False

    @property
    def empty(self) -> bool:
        return self.current is None and not self.queue and not self.history

    @property
    def playing(self) -> bool:
        """Whether there is anything to continue (a reason to rejoin voice)."""
        return self.current is not None or bool(self.queue)


class SnapshotError(ValueError):
    """The stored text is not a snapshot at all (not JSON, not an object, an unknown format version)."""


def encode(snapshot: Snapshot) -> str:
    data = {
        "v": FORMAT_VERSION,
        "current": _track_data(snapshot.current) if snapshot.current else None,
        "queue": [_track_data(t) for t in snapshot.queue],
        "history": [_track_data(t) for t in snapshot.history],
        "paused": snapshot.paused and snapshot.current is not None,
    }
    # Compact: a 500-track queue is rewritten on every change, so every byte is paid for often.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> Snapshot:
    """The snapshot in `text`; entries that can't be read are dropped (and logged)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SnapshotError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SnapshotError("not a JSON object")
    if data.get("v") != FORMAT_VERSION:
        raise SnapshotError(f"unknown snapshot version {data.get('v')!r}")
    current = _track_or_none(data.get("current"))
    return Snapshot(
        current=current,
        queue=_tracks(data.get("queue")),
        history=_tracks(data.get("history")),
        paused=data.get("paused") is True and current is not None,
    )


def _track_data(track: Track) -> dict[str, Any]:
    # Every field, so a field added to `Track` later is saved without touching this module.
    return {name: _plain(getattr(track, name)) for name in sorted(_TRACK_FIELDS)}


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Requester):
        return {"user_id": value.user_id, "name": value.name}
    return value


def _tracks(raw: object) -> tuple[Track, ...]:
    if not isinstance(raw, list):
        return ()
    tracks = (_track_or_none(item) for item in raw)
    return tuple(t for t in tracks if t is not None)


def _track_or_none(raw: object) -> Track | None:
    if raw is None:
        return None
    try:
        return _track(raw)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("dropping a saved track that can't be read: %s", exc)
        return None


def _track(raw: object) -> Track:
    if not isinstance(raw, Mapping):
        raise TypeError("a track must be a JSON object")
    values = {key: value for key, value in raw.items() if key in _TRACK_FIELDS}
    values["source"] = SourceKind(values["source"])
    requester = values.get("added_by")
    if requester is not None:
        if not isinstance(requester, Mapping):
            raise TypeError("added_by must be a JSON object")
        values["added_by"] = Requester(user_id=int(requester["user_id"]), name=str(requester["name"]))
    for text in ("title", "locator", "id"):
        if not isinstance(values.get(text, ""), str):
            raise TypeError(f"{text} must be text")
    return Track(**values)
