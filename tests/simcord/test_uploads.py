"""Users' uploads: a message with files carries Discord attachment objects whose URLs serve the bytes."""

from __future__ import annotations

import aiohttp

from simcord import Simcord


async def test_a_user_upload_is_an_attachment_served_like_the_cdn() -> None:
    async with Simcord() as sim:
        alice = sim.create_user("alice")
        guild = sim.create_guild("g", alice)
        channel = sim.create_text_channel(guild, "general")
        message = await alice.send(
            channel, "!play", files=[("my song.mp3", b"ID3 tag and audio", "audio/mpeg")]
        )
        (attachment,) = message.attachments
        assert attachment["filename"] == "my song.mp3"
        assert attachment["size"] == len(b"ID3 tag and audio")
        assert attachment["content_type"] == "audio/mpeg"
        assert attachment["url"].endswith("/my%20song.mp3")
        option = sim.upload("untyped", b"\x00\x01")
        assert "content_type" not in option
        async with aiohttp.ClientSession() as http:
            async with http.get(attachment["url"]) as response:
                assert response.status == 200
                assert await response.read() == b"ID3 tag and audio"
            async with http.get(option["url"]) as response:
                assert await response.read() == b"\x00\x01"
