"""Which YouTube video plays each Spotify track, in the database (table `spotify_match`).

Matching a track costs a YouTube search (about 101 units of the Data API's daily quota), so the choice
is kept: after a restart the restored queue plays the same videos without searching, and a track queued
in another guild reuses it too. `SpotifySource` keeps an in-memory cache in front of this. A match whose
video went private or was deleted is forgotten (`forget`), so the track is searched again instead of
failing in every guild for good.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.storage.schema import spotify_match
from pytunes.storage.upsert import upsert

TRACK_ID_MAX = 64  # the columns' lengths
VIDEO_ID_MAX = 32


class SpotifyMatchStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, track_id: str) -> str | None:
        """The video id chosen for this Spotify track, or None when it was never matched."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(spotify_match.c.video_id).where(spotify_match.c.track_id == track_id)
                )
            ).first()
        return str(row[0]) if row is not None else None

    async def put(self, track_id: str, video_id: str) -> None:
        if not 0 < len(track_id) <= TRACK_ID_MAX or not 0 < len(video_id) <= VIDEO_ID_MAX:
            raise ValueError("track ids are 1 to 64 characters, video ids 1 to 32")
        statement = upsert(
            self.engine,
            spotify_match,
            {"track_id": track_id, "video_id": video_id},
            key=[spotify_match.c.track_id],
            also_set={"matched_at": func.now()},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def forget(self, track_id: str, video_id: str) -> None:
        """Drop the match, but only while it is still `video_id`: another guild that already re-matched
        the track to a working video keeps its choice."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(spotify_match).where(
                    spotify_match.c.track_id == track_id, spotify_match.c.video_id == video_id
                )
            )
