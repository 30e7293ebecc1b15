"""discord.py's voice client with two fixes for leaving voice, which many guilds doing at once exposed.

1. A leave must not be mistaken for the server closing the connection. `VoiceClient.disconnect` sends the
   gateway's "leave" (op 4, no channel), then closes the voice websocket itself. The connection's poller
   task sees that close (1000); it treats it as ours only while the leave is still "expected". But the
   gateway's VOICE_STATE_UPDATE confirming the leave resets "expected", and it often arrives first. The
   poller then leaves a second time and unregisters the client, so the confirmation of that second leave
   reaches nobody, and the first `disconnect` waits its whole timeout (20 s) for it. Meanwhile the guild's
   music stands still. Stopping the poller before leaving (as discord.py's own soft disconnect does)
   leaves exactly once.
2. A client only ever unregisters itself. At the end of `disconnect`, discord.py removes *whatever* voice
   client the guild has by then. A leave that finished late (a confirmation lost on a real outage)
   would remove the guild's next connection, and the next track would fail with "not connected".

The private names used here are checked against the installed discord.py by tests/contract.
"""

from __future__ import annotations

import asyncio

import discord


class MusicVoiceClient(discord.VoiceClient):
    async def disconnect(self, *, force: bool = False) -> None:
        connection = self._connection
        poller = connection._runner
        if poller is not None and poller is not asyncio.current_task():
            poller.cancel()
            connection._runner = None
        await super().disconnect(force=force)

    def cleanup(self) -> None:
        key, _ = self.channel._get_voice_client_key()
        if self.client._connection._get_voice_client(key) is self:
            super().cleanup()
