"""`play`, `playtop`, `playnow` and history replay: resolve, pick, join, push, confirm, then kick off.

The order is the contract (docs/architecture.md, 'Confirm, then act'): "⏳ Queuing…" at once for links;
nothing is announced as added until the push succeeded; the confirmation is sent before playback is
kicked off, so "Track added" always precedes "Now playing"; the bot joins voice before anything plays.
"""

from __future__ import annotations

import contextlib
from enum import Enum
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from pytunes.core.checks import require_same_channel
from pytunes.core.replies import Tone, make_embed
from pytunes.core.views import Picker, PickOutcome
from pytunes.music import embeds
from pytunes.music.cog_support import guild_music
from pytunes.music.media import MediaConfig, MediaEntry, MediaError
from pytunes.music.media.errors import (
    NoResultsError,
    NotConfiguredError,
    QuotaExceededError,
    RateLimitedError,
    UnsafeUrlError,
)
from pytunes.music.media.resolver import QueryKind, Resolution
from pytunes.music.media.spotify_links import track_uri
from pytunes.music.model import (
    Added,
    Refused,
    Requester,
    SourceKind,
    Track,
    clean_duration,
    queue_cut_text,
)

if TYPE_CHECKING:
    from pytunes.bot import PyTunes
    from pytunes.music.guild import GuildMusic
    from pytunes.music.library.local import LocalMedia
    from pytunes.music.service import MusicService

Ctx = commands.Context["PyTunes"]
SEARCH_RESULTS = 5
PICK_SECONDS = 120.0


class Mode(Enum):
    PLAY = "play"
    TOP = "playtop"
    NOW = "playnow"


def media_error_embed(exc: MediaError) -> discord.Embed:
    if isinstance(exc, NoResultsError):
        return make_embed("🔎  No results", str(exc), tone=Tone.WARNING)
    if isinstance(exc, QuotaExceededError):
        return make_embed("🚧  YouTube API quota exceeded", f"{exc} Try again later.", tone=Tone.WARNING)
    if isinstance(exc, UnsafeUrlError):
        return make_embed("🚫  Link refused", str(exc), tone=Tone.ERROR)
    if isinstance(exc, NotConfiguredError):
        return make_embed("⚙️  Not set up", str(exc), tone=Tone.WARNING)
    if isinstance(exc, RateLimitedError):
        return make_embed("🚧  Too many requests", str(exc), tone=Tone.WARNING)
    return make_embed("🚫  Could not play that", str(exc), tone=Tone.ERROR)


_SOURCES = {"youtube": SourceKind.YOUTUBE, "spotify": SourceKind.SPOTIFY}


def track_from(entry: MediaEntry, requester: Requester, *, locator: str | None = None) -> Track:
    source = _SOURCES.get(entry.source_kind, SourceKind.DIRECT)
    duration = clean_duration(entry.duration)
    if locator is None and source is SourceKind.SPOTIFY:
        # Played through a YouTube match found at play time; the URI is what the resolver matches from.
        locator = track_uri(entry.id)
    return Track(
        title=entry.title or entry.url,
        source=source,
        locator=locator or entry.url,
        url=entry.url,
        author=entry.channel,
        duration=duration,
        is_live=bool(entry.is_live),
        added_by=requester,
    )


class AddFlow:
    def __init__(self, bot: PyTunes, service: MusicService) -> None:
        self.bot = bot
        self.service = service
        self.local: LocalMedia | None = None  # set by the cog's setup: attachments are kept on disk

    async def run(self, ctx: Ctx, query: str, mode: Mode) -> None:
        channel = require_same_channel(ctx)
        music = await guild_music(self.service, ctx)
        resolver = self.service.resolver
        try:
            parsed = resolver.classify(query)
            if parsed.kind is QueryKind.SPOTIFY:
                resolver.spotify.require_configured()  # say what is missing at once, not after "Queuing…"
            if parsed.kind is not QueryKind.SEARCH and mode is not Mode.NOW:
                await self.bot.replies.send(
                    ctx, embed=make_embed("⏳  Queuing…", f"Resolving `{parsed.kind.value}` link…")
                )
            resolution = await resolver.resolve(query, requester=ctx.author.name)
        except MediaError as exc:
            await self.bot.replies.send(ctx, embed=media_error_embed(exc))
            return
        requester = Requester(ctx.author.id, ctx.author.name)
        tracks = await self._tracks(ctx, music, resolution, requester)
        if not tracks:
            return
        if not await self._join_if_playable(ctx, music, channel, tracks):
            return
        # A listing with a name (a Spotify album, an m3u/pls file) is confirmed as one, even with one entry.
        collection = resolution.kind is QueryKind.YOUTUBE_PLAYLIST or (
            resolution.kind in (QueryKind.SPOTIFY, QueryKind.URL) and resolution.title is not None
        )
        await self.push(
            ctx,
            music,
            tracks,
            mode,
            playlist=resolution.title if collection else None,
            note=collection_note(resolution, self.service.resolver.config) if collection else None,
        )

    async def start(
        self, ctx: Ctx, query: str | None, attachment: discord.Attachment | None, mode: Mode
    ) -> None:
        """`play`/`playtop`/`playnow`: a link or search words, or else an attached audio file."""
        query = (query or "").strip() or None
        if attachment is not None and query is not None:
            await self.bot.replies.error(
                ctx, "Give me either a link or search words, or an audio file — not both at once."
            )
            return
        if attachment is not None:
            await self.run_attachment(ctx, attachment, mode)
        elif query is not None:
            await self.run(ctx, query, mode)
        else:
            where = "use the `file` option" if ctx.interaction else "attach one to your message"
            await self.bot.replies.error(
                ctx, f"Tell me what to play: a link, some search words, or an audio file ({where})."
            )

    async def run_attachment(self, ctx: Ctx, attachment: discord.Attachment, mode: Mode) -> None:
        """Play an uploaded file: checked (size, type, FFmpeg can decode it) and kept on disk first,
        because Discord's attachment links expire while a queue may wait for hours."""
        channel = require_same_channel(ctx)
        if self.local is None:
            await self.bot.replies.error(ctx, "Playing attachments isn't available right now.")
            return
        if mode is not Mode.NOW:
            await self.bot.replies.send(
                ctx, embed=make_embed("⏳  Queuing…", f"Reading `{embeds.safe(attachment.filename)}`…")
            )
        requester = Requester(ctx.author.id, ctx.author.name)
        guild_id = ctx.guild.id if ctx.guild is not None else None
        try:
            track = await self.local.attachment_track(attachment, requester, guild_id)
        except MediaError as exc:
            await self.bot.replies.send(ctx, embed=media_error_embed(exc))
            return
        result = None
        try:
            result = await self.add(ctx, channel, [track], mode)
        finally:
            # Stored before joining and pushing; if no queue took it, nothing ever will (it has no name
            # anyone could play it by), and it would count against the library's size cap.
            if not (isinstance(result, Added) and track in result.tracks):
                await self.local.library.discard_attachment(track.locator)

    async def add(
        self,
        ctx: Ctx,
        channel: discord.VoiceChannel | discord.StageChannel,
        tracks: list[Track],
        mode: Mode,
    ) -> Added | Refused | None:
        """Join (only for something that may play), then push and confirm: files from disk use this.
        What the push did; None if joining failed."""
        music = await guild_music(self.service, ctx)
        if await self._join_if_playable(ctx, music, channel, tracks):
            return await self.push(ctx, music, tracks, mode)
        return None

    async def _join_if_playable(
        self,
        ctx: Ctx,
        music: GuildMusic,
        channel: discord.VoiceChannel | discord.StageChannel,
        tracks: list[Track],
    ) -> bool:
        """Join `channel` if any of `tracks` may play; False (the author told why) if joining failed.

        Tracks the gates refuse (a picked livestream) are refused by the push that follows, and the bot
        has no reason to come into the channel for them.
        """
        if any(music.player.gate(track) is None for track in tracks):
            try:
                await self.service.connect(channel)
            except (TimeoutError, discord.ClientException, discord.HTTPException) as exc:
                await self.bot.replies.error(ctx, f"Unable to join {channel.mention}: {exc or 'timed out'}.")
                return False
        return True

    async def _tracks(
        self, ctx: Ctx, music: GuildMusic, resolution: Resolution, requester: Requester
    ) -> list[Track]:
        if resolution.kind is QueryKind.SEARCH:
            # Only offer what may play here: a livestream or an over-long video would be refused once
            # picked, after the user waited for the picker.
            playable = [e for e in resolution.entries if music.player.gate(track_from(e, requester)) is None]
            if not playable:
                await self.bot.replies.send(
                    ctx,
                    embed=make_embed(
                        "🔎  No results",
                        "Everything found is a livestream or longer than this server allows.",
                        tone=Tone.WARNING,
                    ),
                )
                return []
            entry = await self.pick(ctx, playable[:SEARCH_RESULTS])
            return [track_from(entry, requester)] if entry is not None else []
        tracks = [track_from(e, requester) for e in resolution.entries]
        if resolution.kind is QueryKind.YOUTUBE_VIDEO and resolution.start_at and tracks:
            # Keep a link's t= start: the locator carries it to playback.
            first = resolution.entries[0]
            tracks[0] = track_from(first, requester, locator=f"{first.url}&t={int(resolution.start_at)}")
        return tracks

    async def pick(self, ctx: Ctx, entries: list[MediaEntry]) -> MediaEntry | None:
        picker = Picker(
            self.bot.interactions,
            count=len(entries),
            author_id=ctx.author.id,
            refusal="Only the person who searched can pick a result.",
            timeout=PICK_SECONDS,
        )
        fields = [(f"{i + 1}.  {embeds.safe(e.title)}", e.url) for i, e in enumerate(entries)]
        embed = make_embed("🔍  Search results", "Choose a track to add to the queue:", fields=fields)
        message = await self.bot.replies.send(ctx, embed=embed, view=picker.view(), transient=False)
        if message is None:
            return None
        result = await picker.run(message)
        if result.click is not None:
            await result.click.delete_message()
        else:
            await self._delete(message)
        if result.outcome is PickOutcome.CANCELLED:
            await self.bot.replies.send(
                ctx, embed=make_embed("✖  Search cancelled", "Nothing was added.", tone=Tone.MUTED)
            )
            return None
        if result.outcome is PickOutcome.EXPIRED:
            await self.bot.replies.send(
                ctx,
                embed=make_embed("🚫  Search expired", "Run the command again to search.", tone=Tone.WARNING),
                delete_after=15,
            )
            return None
        assert result.index is not None
        return entries[result.index]

    @staticmethod
    async def _delete(message: discord.Message) -> None:
        with contextlib.suppress(discord.HTTPException):
            await message.delete()

    async def push(
        self,
        ctx: Ctx,
        music: GuildMusic,
        tracks: list[Track],
        mode: Mode,
        *,
        playlist: str | None = None,
        note: str | None = None,
    ) -> Added | Refused:
        """Push, confirm, then release the effects (kick-off): docs/architecture.md, 'Confirm, then act'."""
        if mode is Mode.NOW:
            result, batch = music.act(lambda p: p.play_now(tracks), hold=True)
        else:
            result, batch = music.act(lambda p: p.enqueue(tracks, top=mode is Mode.TOP), hold=True)
        try:
            if isinstance(result, Refused):
                await self.bot.replies.send(ctx, embed=embeds.refused(result))
            else:
                if result.cut:
                    cut = queue_cut_text(music.player.config.max_queue, len(result.tracks))
                    note = f"{note}\n{cut}" if note else cut
                await self.confirm(ctx, result, mode, playlist, note=note)
        finally:
            music.release(batch)
        return result

    async def confirm(
        self, ctx: Ctx, result: Added, mode: Mode, playlist: str | None, *, note: str | None = None
    ) -> None:
        if playlist is not None or len(result.tracks) > 1 or result.cut:
            embed = embeds.playlist_added(
                playlist or "Playlist", len(result.tracks), skipped=len(result.dropped)
            )
            if note:
                embed.description = f"{embed.description}\n{note}"
        elif mode is Mode.NOW:
            embed = make_embed("▶️  Playing now", embeds.linked(result.tracks[0]), tone=Tone.SUCCESS)
        elif result.resumed:
            embed = embeds.track_added(result.tracks[0], result.position, starts_now=False)
            embed.description = f"{embed.description}\n▶️ Resumed the paused track."
        else:
            embed = embeds.track_added(result.tracks[0], result.position, starts_now=result.starts_now)
        await self.bot.replies.send(ctx, embed=embed)


def collection_note(resolution: Resolution, config: MediaConfig) -> str | None:
    """What a playlist confirmation should add: the list was cut at the limit, items were unplayable."""
    lines = []
    if resolution.truncated:
        spotify = resolution.kind is QueryKind.SPOTIFY
        limit = config.spotify_max_tracks if spotify else config.max_playlist_entries
        lines.append(f"Only the first {limit} tracks were taken (the limit for one link).")
    if resolution.skipped and resolution.kind is QueryKind.URL:
        lines.append(
            f"{resolution.skipped} entry(ies) are not web links (local files, other kinds); left out."
        )
    elif resolution.skipped:
        lines.append(f"{resolution.skipped} item(s) can't be played (local files, podcasts); left out.")
    return "\n".join(lines) or None
