"""Which files every server's player and every saved session hold, and what a refusal says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.library.store import LibraryFile
from pytunes.music.library.usage import FilesInUse, Held, held_by_sessions
from pytunes.music.model import Requester, Snapshot, SourceKind, Track
from pytunes.music.model.snapshot import encode
from pytunes.music.session_store import SavedSession

SONG = LibraryFile("song.mp3")


def track(source: SourceKind, locator: str) -> Track:
    return Track(title="t", source=source, locator=locator, added_by=Requester(1, "alice"))


def local(locator: str = "song.mp3") -> Track:
    return track(SourceKind.LOCAL, locator)


def saved(guild_id: int, snapshot: Snapshot | str) -> SavedSession:
    state = snapshot if isinstance(snapshot, str) else encode(snapshot)
    return SavedSession(guild_id, None, None, state, 0.0)


def test_the_asking_server_hears_about_its_own_player_first() -> None:
    uses = FilesInUse([Held(2, local(), ()), Held(1, None, (local(),))])
    assert "is in the queue" in (uses.reason(SONG, 1) or "")
    assert "is playing right now" in (uses.reason(SONG, 2) or "")
    assert "in another server" in (uses.reason(SONG, 3) or "")


def test_a_saved_session_holds_its_current_track_and_queue_not_its_history() -> None:
    sessions = [
        saved(5, Snapshot(current=track(SourceKind.ATTACHMENT, "1-a.mp3"), queue=(local(),))),
        saved(6, Snapshot(history=(local("old.mp3"),))),
        saved(7, "not json"),
        saved(8, Snapshot(current=local("skipped.mp3"))),
    ]
    uses = FilesInUse(held_by_sessions(sessions, skip={8}))
    assert "resumes after the restart" in (uses.reason(SONG, 1) or "")
    assert uses.reason(LibraryFile("old.mp3"), 1) is None
    assert uses.reason(LibraryFile("skipped.mp3"), 1) is None, "that guild's settled player is the truth"
    assert uses.names(SourceKind.ATTACHMENT) == {"1-a.mp3"}
    assert uses.names(SourceKind.LOCAL) == {"song.mp3"}


def test_a_live_player_outranks_a_saved_session_in_the_reply() -> None:
    uses = FilesInUse([Held(9, local(), (), saved=True), Held(4, None, (local(),))])
    assert "in another server" in (uses.reason(SONG, 1) or "")


@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.lists(st.sampled_from(["song.mp3", "Song.mp3", "other.mp3"]), max_size=3),
            st.booleans(),
        ),
        max_size=5,
    ),
    st.integers(1, 4),
)
def test_a_file_is_free_exactly_when_nothing_holds_it(
    guilds: list[tuple[int, list[str], bool]], asking: int
) -> None:
    held = [Held(g, None, tuple(local(name) for name in names), saved=s) for g, names, s in guilds]
    uses = FilesInUse(held)
    holds = any("song.mp3" in names for _, names, _ in guilds)
    assert (uses.reason(SONG, asking) is not None) == holds
    assert ("song.mp3" in uses.names(SourceKind.LOCAL)) == holds
    assert uses.names(SourceKind.ATTACHMENT) == frozenset()
