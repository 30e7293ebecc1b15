"""`local list|download|upload|play|rename|remove`: the local audio library (docs/commands.md,
'Local library')."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from pytunes.core.checks import require_same_channel, same_voice_channel
from pytunes.core.commands import Handler, defer_first, hybrid_group
from pytunes.core.replies import DESCRIPTION_MAX, Tone, clip, make_embed
from pytunes.core.views import ButtonSpec, Picker, PickOutcome, author_only, render_view, reply_with_pages
from pytunes.music.adding import AddFlow, Mode
from pytunes.music.cog_support import MusicCog
from pytunes.music.embeds import safe
from pytunes.music.library.download import Downloaded, chosen_name
from pytunes.music.library.local import LocalMedia
from pytunes.music.library.names import BadNameError
from pytunes.music.library.pages import LibraryPages, empty_library, numbered
from pytunes.music.library.store import LibraryFile, LibraryFullError, Match
from pytunes.music.library.usage import files_in_use
from pytunes.music.media.errors import MediaError
from pytunes.music.model import Requester

if TYPE_CHECKING:
    from pytunes.bot import PyTunes
    from pytunes.music.service import MusicService

log = logging.getLogger(__name__)

Ctx = commands.Context["PyTunes"]
LIST_SECONDS = 60.0
PICK_SECONDS = 120.0
CONFIRM_SECONDS = 60.0
AUTOCOMPLETE_MAX = 25
CHOICE_NAME_MAX = 100  # Discord's limit for what a choice shows
URL_SHOWN = 300


def subcommand(
    group: commands.HybridGroup[Any, ..., None], **attrs: Any
) -> Callable[[Handler], commands.HybridCommand[Any, ..., None]]:
    """`group.command`, typed for cog methods (see `pytunes.core.commands`)."""
    return cast(Callable[[Handler], commands.HybridCommand[Any, ..., None]], group.command(**attrs))


def prefix_of(ctx: Ctx) -> str:
    return "/" if ctx.interaction is not None else ctx.clean_prefix


def downloading_text(url: str) -> str:
    """The link as typed, shown inert: it isn't checked yet, and markdown in it (a masked link, a
    mention) must not render in the bot's own message."""
    return safe(clip(url.strip().strip("<>"), URL_SHOWN))


class LocalLibrary(MusicCog):
    def __init__(self, bot: PyTunes, service: MusicService, local: LocalMedia, adding: AddFlow) -> None:
        super().__init__(bot, service)
        self.media = local
        self.adding = adding

    async def cog_load(self) -> None:
        self.bot.tasks.spawn(_sweep(self.media), name="library-sweep")

    async def cog_unload(self) -> None:
        await self.media.aclose()

    async def _fail(self, ctx: Ctx, title: str, text: str, *, seconds: float = 30) -> None:
        await self.bot.replies.send(ctx, embed=make_embed(title, text, tone=Tone.ERROR), delete_after=seconds)

    async def _no_match(self, ctx: Ctx, query: str) -> None:
        if not await self.media.library.files():
            await self.bot.replies.send(ctx, embed=empty_library(prefix_of(ctx)), delete_after=15)
            return
        await self.bot.replies.send(
            ctx,
            embed=make_embed(
                "🔎  No local match", f"No saved track matches **{safe(query)}**.", tone=Tone.WARNING
            ),
            delete_after=15,
        )

    # ------------------------------------------------------------------------------------------ list

    @hybrid_group(name="local", description="The local audio library", fallback=None)
    @same_voice_channel
    async def local(self, ctx: Ctx) -> None:
        if ctx.invoked_subcommand is None:
            await self._list(ctx)

    @subcommand(local, name="list", description="Show the saved tracks, 20 per page")
    @same_voice_channel
    async def local_list(self, ctx: Ctx) -> None:
        await self._list(ctx)

    async def _list(self, ctx: Ctx) -> None:
        await reply_with_pages(
            ctx,
            self.bot.interactions,
            self.bot.replies,
            LibraryPages(self.media.library, prefix_of(ctx)),
            refusal="Only the person who ran this command can turn its pages.",
            timeout=LIST_SECONDS,
        )

    # ------------------------------------------------------------------------------------------ adding

    @subcommand(local, name="download", description="Save an audio file from a link, then play it")
    @app_commands.describe(url="A direct link to an audio file", name="What to call it (optional)")
    @same_voice_channel
    @defer_first
    async def local_download(self, ctx: Ctx, url: str, *, name: str | None = None) -> None:
        async def fetch() -> Downloaded:
            # Announced only once the download may start (not refused as one too many, or for a full
            # library).
            await self.bot.replies.send(
                ctx, embed=make_embed("⬇️  Downloading", downloading_text(url)), delete_after=15
            )
            return await self.media.downloader.fetch(url)

        await self._save(ctx, fetch, name)

    @subcommand(local, name="upload", description="Save an attached audio file, then play it")
    @app_commands.describe(file="The audio file", name="What to call it (optional)")
    @same_voice_channel
    @defer_first
    async def local_upload(
        self, ctx: Ctx, file: discord.Attachment | None = None, *, name: str | None = None
    ) -> None:
        if file is None:
            where = "" if ctx.interaction is not None else " to your message"
            await self._fail(ctx, "🚫  Upload failed", f"Attach an audio file{where}.")
            return
        await self._save(ctx, lambda: self.media.fetch_attachment(file), name)

    async def _save(self, ctx: Ctx, fetch: Callable[[], Awaitable[Downloaded]], custom: str | None) -> None:
        """Fetch and check the file, keep it under its chosen name, confirm, then enqueue it. Nothing
        starts while the library is full or this person already has a download running."""
        channel = require_same_channel(ctx)
        guild_id = ctx.guild.id if ctx.guild is not None else None
        try:
            with self.media.slots.hold(guild_id, ctx.author.id):
                await self.media.library.check_room()
                file = await self._fetch_and_keep(fetch, custom)
        except MediaError as exc:
            await self._fail(ctx, "🚫  Download failed", str(exc))
            return
        await self.bot.replies.send(
            ctx,
            embed=make_embed("✅  Downloaded", f"Saved as **{safe(file.name)}**.", tone=Tone.SUCCESS),
        )
        await self._enqueue(ctx, channel, file)

    async def _fetch_and_keep(
        self, fetch: Callable[[], Awaitable[Downloaded]], custom: str | None
    ) -> LibraryFile:
        downloaded = await fetch()
        try:
            return await self.media.library.keep(downloaded.part, chosen_name(custom, downloaded.name))
        except (OSError, BadNameError, LibraryFullError) as exc:
            with contextlib.suppress(OSError):
                downloaded.part.unlink()
            if isinstance(exc, LibraryFullError):
                raise
            reason = str(exc) if isinstance(exc, BadNameError) else "The file couldn't be saved."
            raise MediaError(reason, detail=repr(exc)) from None

    async def _enqueue(
        self, ctx: Ctx, channel: discord.VoiceChannel | discord.StageChannel, file: LibraryFile
    ) -> None:
        track = self.media.track(file, Requester(ctx.author.id, ctx.author.name))
        await self.adding.add(ctx, channel, [track], Mode.PLAY)

    # ------------------------------------------------------------------------------------------ play

    @subcommand(
        local, name="play", description="Play a saved track (all of them to pick from without a name)"
    )
    @app_commands.describe(name="Part of the track's name")
    @same_voice_channel
    @defer_first
    async def local_play(self, ctx: Ctx, *, name: str | None = None) -> None:
        channel = require_same_channel(ctx)
        found = await self.media.library.find(name or "")
        file = await self._one(ctx, found, name or "", "📁  Pick a track to play")
        if file is not None:
            await self._enqueue(ctx, channel, file)

    async def _one(self, ctx: Ctx, found: Match, query: str, title: str) -> LibraryFile | None:
        """The single file `found` stands for: the only match, else the author's pick (also among
        several exact matches: "song" is both song.mp3 and song.flac)."""
        if not found.files:
            await self._no_match(ctx, query)
            return None
        if len(found.files) == 1:
            return found.files[0]
        return await self._pick(ctx, list(found.files), title)

    async def _pick(self, ctx: Ctx, files: list[LibraryFile], title: str) -> LibraryFile | None:
        picker = Picker(
            self.bot.interactions,
            count=len(files),
            author_id=ctx.author.id,
            refusal="Only the person who ran this command can pick.",
            timeout=PICK_SECONDS,
        )

        def page_embed() -> discord.Embed:
            shown = picker.page_range()
            footer = (
                f"{len(files)} matches · page {picker.page + 1}/{picker.pages}" if picker.pages > 1 else None
            )
            head = "Multiple matches — choose one:\n"
            listed = numbered(
                files[shown.start : shown.stop], shown.start, budget=DESCRIPTION_MAX - len(head)
            )
            return make_embed(title, head + listed, footer=footer)

        async def on_page(click: Any, _page: int) -> None:
            await click.edit_message(embeds=[page_embed()], view=picker.view())

        message = await self.bot.replies.send(ctx, embed=page_embed(), view=picker.view(), transient=False)
        if message is None:
            return None
        result = await picker.run(message, on_page)
        if result.click is not None:
            await result.click.delete_message()
        else:
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
        if result.outcome is PickOutcome.CANCELLED:
            await self.bot.replies.send(
                ctx, embed=make_embed("✖  Search cancelled", None, tone=Tone.MUTED), delete_after=15
            )
            return None
        if result.outcome is PickOutcome.EXPIRED or result.index is None:
            await self.bot.replies.send(
                ctx,
                embed=make_embed("🚫  Search expired", "Run the command again to pick.", tone=Tone.WARNING),
                delete_after=15,
            )
            return None
        return files[result.index]

    @local_play.autocomplete("name")
    async def _complete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        files = (await self.media.library.find(current)).files[:AUTOCOMPLETE_MAX]
        # The value always resolves to exactly the file shown: its name, or its token when the name is
        # too long for a value, so picking "song" plays "song", never a picker with "song remix" in it
        # The full name is shown (clipped): "song.mp3" and "song.flac" look different.
        return [app_commands.Choice(name=f.name[:CHOICE_NAME_MAX], value=f.choice_value) for f in files]

    # ------------------------------------------------------------------------------------------ rename

    @subcommand(local, name="rename", description="Rename a saved track")
    @app_commands.describe(old="The track to rename", new="Its new name")
    @same_voice_channel
    @defer_first
    async def local_rename(self, ctx: Ctx, old: str, *, new: str) -> None:
        if not old.strip() or not new.strip():
            await self._fail(ctx, "🚫  Rename failed", "Give the track's current name and its new name.")
            return
        found = await self.media.library.find(old)
        file = await self._one(ctx, found, old, "✏️  Pick a track to rename")
        if file is None or await self._refuse_in_use(ctx, file, "🚫  Rename failed"):
            return
        try:
            renamed = await self.media.library.rename(file, new)
        except BadNameError as exc:
            await self._fail(ctx, "🚫  Rename failed", str(exc))
            return
        except OSError:
            await self._fail(ctx, "🚫  Rename failed", f"**{safe(file.name)}** couldn't be renamed.")
            return
        await self.bot.replies.send(
            ctx,
            embed=make_embed(
                "✏️  Renamed", f"**{safe(file.name)}** → **{safe(renamed.name)}**", tone=Tone.SUCCESS
            ),
        )

    local_rename.autocomplete("old")(_complete)

    # ------------------------------------------------------------------------------------------ remove

    @subcommand(local, name="remove", description="Delete a saved track (asks first)")
    @app_commands.describe(name="The track to delete")
    @same_voice_channel
    @defer_first
    async def local_remove(self, ctx: Ctx, *, name: str = "") -> None:
        if not name.strip():
            await self._fail(ctx, "🚫  Remove failed", "Provide a name to remove.", seconds=15)
            return
        found = await self.media.library.find(name)
        file = await self._one(ctx, found, name, "🗑️  Pick a track to remove")
        if file is None or await self._refuse_in_use(ctx, file, "🚫  Remove failed"):
            return
        # Asked again after the confirmation: the file may have been queued while it was open.
        if not await self._confirm(ctx, file) or await self._refuse_in_use(ctx, file, "🚫  Remove failed"):
            return
        try:
            sidecars = await self.media.library.remove(file)
        except FileNotFoundError:
            await self._fail(ctx, "🚫  Remove failed", f"**{safe(file.name)}** is already gone.")
            return
        except OSError:
            await self._fail(ctx, "🚫  Remove failed", f"**{safe(file.name)}** couldn't be deleted.")
            return
        extra = f" (and {len(sidecars)} file(s) that belonged to it)" if sidecars else ""
        await self.bot.replies.send(
            ctx, embed=make_embed("🗑️  Removed", f"Deleted **{safe(file.name)}**{extra}.", tone=Tone.SUCCESS)
        )

    local_remove.autocomplete("name")(_complete)

    async def _refuse_in_use(self, ctx: Ctx, file: LibraryFile, title: str) -> bool:
        """Refuse (and say so) to rename or delete a file that any server is playing or has queued, or
        that a saved session will play once restored: a queue holds it by name, so the entry would fail
        when its turn came. This server's own restore is waited for: until then its player is empty."""
        guild_id = ctx.guild.id if ctx.guild is not None else None
        if guild_id is not None:
            await self.service.sessions.settled(guild_id)
        try:
            reason = (await files_in_use(self.service)).reason(file, guild_id)
        except Exception:
            log.warning("could not tell whether %r is in use", file.name, exc_info=True)
            reason = "I couldn't check whether that track is queued anywhere; try again in a moment."
        if reason is not None:
            await self._fail(ctx, title, reason)
        return reason is not None

    async def _confirm(self, ctx: Ctx, file: LibraryFile) -> bool:
        """Ask the author (only them) to confirm; anything but ✔ Delete keeps the file."""
        view = render_view(
            [
                [
                    ButtonSpec("🗑️ Delete", "remove:yes", discord.ButtonStyle.danger),
                    ButtonSpec("Keep it", "remove:no", discord.ButtonStyle.secondary),
                ]
            ]
        )
        prompt = make_embed(
            "🗑️  Delete this track?",
            f"**{safe(file.name)}** will be deleted from the library for everyone.",
            tone=Tone.WARNING,
        )
        message = await self.bot.replies.send(ctx, embed=prompt, view=view, transient=False)
        if message is None:
            return False
        router = self.bot.interactions
        accept = author_only(
            ctx.author.id, "Only the person who asked can confirm.", clock=router.clock.monotonic
        )
        async with router.stream(message, accept=accept) as stream:
            click = await stream.next_within(CONFIRM_SECONDS)
        if click is not None:
            await click.delete_message()
        else:
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
        if click is None or click.custom_id != "remove:yes":
            reason = "Nothing was deleted." if click is not None else "No answer; nothing was deleted."
            await self.bot.replies.send(
                ctx,
                embed=make_embed(
                    "✖  Removal cancelled", f"{reason} **{safe(file.name)}** stays.", tone=Tone.MUTED
                ),
                delete_after=15,
            )
            return False
        return True


async def _sweep(local: LocalMedia) -> None:
    await asyncio.to_thread(local.library.sweep)
