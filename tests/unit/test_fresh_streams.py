"""A stream resolved when a track was added is reused once by the playback that follows, while fresh."""

from __future__ import annotations

from pytunes.music.media.fresh import CAPACITY, FRESH_SECONDS, FreshStreams
from pytunes.music.media.results import ResolvedMedia, SourceKind


def media(page: str, *, live: bool = False) -> ResolvedMedia:
    return ResolvedMedia(
        title=page,
        page_url=page,
        stream_url="" if live else f"{page}/stream",
        duration=None if live else 60.0,
        is_live=live,
        acodec="opus",
        ext="webm",
        http_headers={},
        source_kind=SourceKind.DIRECT,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_stream_is_handed_out_once() -> None:
    fresh = FreshStreams(clock=Clock())
    kept = media("http://example.test/a")
    fresh.keep(kept)
    assert fresh.take("http://example.test/a") is kept
    assert fresh.take("http://example.test/a") is None, "the next playback resolves again"


def test_a_stream_older_than_the_freshness_window_is_resolved_again() -> None:
    clock = Clock()
    fresh = FreshStreams(clock=clock)
    fresh.keep(media("http://example.test/a"))
    fresh.keep(media("http://example.test/b"))
    clock.now += FRESH_SECONDS
    assert fresh.take("http://example.test/a") is not None, "exactly at the limit it is still fresh"
    clock.now += 0.001
    assert fresh.take("http://example.test/b") is None


def test_livestreams_and_unknown_links_are_never_kept() -> None:
    fresh = FreshStreams(clock=Clock())
    fresh.keep(media("http://example.test/live", live=True))
    assert fresh.take("http://example.test/live") is None
    assert fresh.take("http://example.test/never-added") is None


def test_only_the_newest_links_are_kept() -> None:
    fresh = FreshStreams(clock=Clock())
    pages = [f"http://example.test/{n}" for n in range(CAPACITY + 1)]
    for page in pages:
        fresh.keep(media(page))
    assert fresh.take(pages[0]) is None
    assert all(fresh.take(page) is not None for page in pages[1:])
