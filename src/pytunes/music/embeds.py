"""Every music message, built in one place so tracks always look the same.

Titles and names come from the internet: markdown is escaped and link text cannot break out of its
brackets; `make_embed` clamps every part to Discord's limits.
"""

from __future__ import annotations

import discord

from pytunes.core.replies import Tone, clip, make_embed
from pytunes.music.model import QueuePage, Refused, Track, progress_text

NUMBER_EMOJI = [
    ":zero:",
    ":one:",
    ":two:",
    ":three:",
    ":four:",
    ":five:",
    ":six:",
    ":seven:",
    ":eight:",
    ":nine:",
]


def safe(text: str) -> str:
    return (
        discord.utils.escape_markdown(discord.utils.escape_mentions(text)).replace("[", "⁅").replace("]", "⁆")
    )


def linked(track: Track, *, limit: int = 200) -> str:
    """Bold title, linked when the track has a web page (never for local files)."""
    title = f"**{safe(clip(track.title, limit))}**"
    url = track.url
    if url and url.startswith(("https://", "http://")) and len(url) <= 512:
        return f"[{title}]({url.replace(')', '%29')})"
    return title


def position_emoji(position: int) -> str:
    return "".join(NUMBER_EMOJI[int(digit)] for digit in str(position))


def track_added(track: Track, position: int, *, starts_now: bool) -> discord.Embed:
    embed = make_embed(None, linked(track), tone=Tone.SUCCESS)
    where = "Starting now" if starts_now else f"Position {position} in the queue"
    embed.set_author(name=f"🎵  Track added to queue  ·  {track.source.text}")
    embed.set_footer(text=f"{where} · {track.duration_text}")
    return embed


def playlist_added(title: str, count: int, *, skipped: int = 0, url: str | None = None) -> discord.Embed:
    name = f"**{safe(clip(title, 200))}**"
    description = f"[{name}]({url})" if url and url.startswith("https://") else name
    if skipped:
        description += f"\n{skipped} track(s) were left out (too long or live)."
    embed = make_embed(None, description, tone=Tone.SUCCESS, footer=f"Playlist length: {count}")
    embed.set_author(name="🎵  Playlist added to queue")
    return embed


def now_playing(track: Track, *, elapsed: float | None = None, paused: bool = False) -> discord.Embed:
    fields: list[tuple[str, str] | tuple[str, str, bool]] = [
        ("Song", linked(track)),
        ("Author", safe(track.author or "—"), True),
        ("Source", track.source.text, True),
    ]
    if elapsed is not None:
        fields.append(("Progress", f"`{progress_text(elapsed, track.duration, live=track.is_live)}`"))
    footer = f"Added by {track.requester_name}" if track.requester_name else None
    title = "⏸️  Paused:" if paused else "🎵  Now playing:"
    return make_embed(title, None, tone=Tone.PAUSED if paused else Tone.INFO, fields=fields, footer=footer)


def queue_page(page: QueuePage, current: Track | None) -> list[discord.Embed]:
    embeds = [now_playing(current)] if current is not None else []
    fields = []
    for position, track in page.entries:
        value = track.location_line
        if track.requester_name:
            value += f"\nAdded by: {safe(track.requester_name)}"
        fields.append((f"{position_emoji(position)} {safe(clip(track.title, 200))}", value))
    body = "Upcoming tracks:" if fields else "Nothing queued after this track."
    footer = f"Queue length: {page.total} · page {page.page}/{page.pages}"  # `page` is 1-based
    embeds.append(make_embed("📜  Queue", body, fields=fields, footer=footer))
    return embeds


def simple(title: str, text: str | None = None, *, tone: Tone = Tone.INFO) -> discord.Embed:
    return make_embed(title, text, tone=tone)


def refused(problem: Refused) -> discord.Embed:
    return make_embed(REFUSAL_TITLES.get(problem.reason.value, "🚫  Error"), problem.message, tone=Tone.ERROR)


def skipped_track(track: Track, problem: Refused) -> discord.Embed:
    title = REFUSAL_TITLES.get(problem.reason.value, "🚫  Playback error")
    return make_embed(title, f"{linked(track)}\n{problem.message}", tone=Tone.WARNING)


REFUSAL_TITLES = {
    "nothing_playing": "🚫  No song playing",
    "not_paused": "🚫  Not paused",
    "already_paused": "🚫  Already paused",
    "empty_queue": "🚫  Empty queue",
    "invalid_position": "🚫  Invalid index",
    "no_history": "📜  No history",
    "nothing_to_add": "🚫  Nothing to add",
    "too_long": "🚫  Track too long",
    "livestream": "🔴  Livestreams not allowed",
    "playback_error": "🚫  Playback error",
    "invalid_volume": "🚫  Invalid volume value",
    "volume_out_of_range": "🚫  Invalid volume value",
    "invalid_toggle": "🚫  Invalid value",
    "queue_full": "🚫  Queue full",
}
