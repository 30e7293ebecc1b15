"""Tracks and players for the music model tests, and the asserts they share."""

from __future__ import annotations

from pytunes.music.model import (
    Added,
    Player,
    Refused,
    Requester,
    Result,
    SourceKind,
    Started,
    Track,
)

ALICE = Requester(user_id=1, name="alice")


def song(name: str = "Song", *, duration: int | None = 200, is_live: bool = False) -> Track:
    return Track(
        title=name,
        source=SourceKind.YOUTUBE,
        locator=f"https://www.youtube.com/watch?v={name}",
        url=f"https://www.youtube.com/watch?v={name}",
        duration=duration,
        is_live=is_live,
        added_by=ALICE,
    )


def added(result: Added | Refused) -> Added:
    assert isinstance(result, Added), result
    return result


def refused(result: Result) -> Refused:
    assert isinstance(result, Refused), result
    assert result.effects == ()
    return result


def playing(*names: str) -> tuple[Player, list[Track]]:
    """A player whose first track has started; the rest are queued."""
    player = Player()
    tracks = [song(n) for n in names]
    added(player.enqueue(tracks))
    assert isinstance(player.track_started(player.generation), Started)
    return player, tracks


def state(player: Player) -> tuple[object, ...]:
    return (
        player.current,
        player.generation,
        player.phase,
        player.queue,
        player.history,
        player.volume,
        player.silent,
        player.idle_timer,
    )


def timer_token(player: Player) -> int:
    assert player.idle_timer is not None
    return player.idle_timer.token
