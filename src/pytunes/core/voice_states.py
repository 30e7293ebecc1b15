"""Where a member is in voice, as the bot's cache knows it, and waiting for the gateway to say so.

A REST call that moves or disconnects a member (or the bot's own op 4) is answered before the gateway's
VOICE_STATE_UPDATE reaches the cache; code that acts on the new place must wait for it first.
"""

from __future__ import annotations

import discord


def voice_channel_id(member: discord.Member) -> int | None:
    """The voice channel the cache has `member` in, or None."""
    voice = member.voice
    return voice.channel.id if voice is not None and voice.channel is not None else None


async def seen_in_voice(
    client: discord.Client, member: discord.Member, channel_id: int | None, *, timeout: float
) -> bool:
    """Wait (at most `timeout` real seconds) until the cache has `member` in `channel_id` (None: out of
    voice); whether it got there."""

    def arrived(who: discord.Member, before: discord.VoiceState, after: discord.VoiceState) -> bool:
        place = after.channel.id if after.channel is not None else None
        return who.guild.id == member.guild.id and who.id == member.id and place == channel_id

    if voice_channel_id(member) == channel_id:
        return True
    try:
        await client.wait_for("voice_state_update", check=arrived, timeout=timeout)
    except TimeoutError:
        return False
    return True
