"""Streams resolved a moment ago, handed once to the playback that follows.

Adding a single link resolves it (title, duration, the length gate); when the queue was empty, playback
starts a moment later and would resolve the same link again, which is most of the wait before the first
sound. A stream kept here is reused once, and only while it is fresh: stream URLs expire, and the address
a URL was checked against may change, so anything older is resolved again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from pytunes.music.media.results import ResolvedMedia

FRESH_SECONDS = 60.0
CAPACITY = 64  # links added in the last minute across all guilds; older ones are resolved again


class FreshStreams:
    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_age: float = FRESH_SECONDS
    ) -> None:
        self._clock = clock
        self._max_age = max_age
        self._kept: OrderedDict[str, tuple[float, ResolvedMedia]] = OrderedDict()

    def keep(self, media: ResolvedMedia) -> None:
        """Remember a checked, playable stream under the page URL a track will be queued with."""
        if media.is_live or not media.stream_url:
            return
        self._kept.pop(media.page_url, None)
        self._kept[media.page_url] = (self._clock(), media)
        while len(self._kept) > CAPACITY:
            self._kept.popitem(last=False)

    def take(self, page_url: str) -> ResolvedMedia | None:
        """The stream kept for `page_url`, if it is still fresh; it is handed out only once."""
        kept = self._kept.pop(page_url, None)
        if kept is None:
            return None
        resolved_at, media = kept
        return media if self._clock() - resolved_at <= self._max_age else None
