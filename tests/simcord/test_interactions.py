"""Slash commands and buttons through an unmodified discord.py client: windows, double acks, outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands

from simcord import Outcome
from simcord.client import running
from tests.simcord.conftest import RecordingClient, World


class CommandClient(RecordingClient):
    """A client with a command tree: /ping answers at once, /slow answers after `slow_delay`."""

    def __init__(self) -> None:
        super().__init__()
        self.tree = app_commands.CommandTree(self)
        self.slow_delay = 0.0
        self.errors: list[BaseException] = []
        self.clicks: list[str] = []
        tree = self.tree

        @tree.command(description="Answer with pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @tree.command(description="Answer late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.slow_delay)
            try:
                await interaction.response.send_message("finally")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="Acknowledge twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            route = discord.http.Route(
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
                interaction_id=interaction.id,
                interaction_token=interaction.token,
            )
            try:
                await self.http.request(route, json={"type": 4, "data": {"content": "again"}})
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="Post a button")
        async def button(interaction: discord.Interaction) -> None:
            view = discord.ui.View()
            press = discord.ui.Button(label="Press", custom_id="press")

            async def pressed(click: discord.Interaction) -> None:
                self.clicks.append(click.user.name)
                await click.response.edit_message(content=f"pressed by {click.user.name}")

            press.callback = pressed  # type: ignore[method-assign]
            view.add_item(press)
            await interaction.response.send_message("a button", view=view)

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.fixture
async def bot(world: World) -> AsyncIterator[CommandClient]:
    world.sim.desk.ack_window = 3.0
    client = CommandClient()
    async with running(client, world.sim.connection(world.app)):
        yield client


async def test_slash_command_answered_in_time(world: World, bot: CommandClient) -> None:
    assert {c["name"] for c in world.app.global_commands} >= {"ping", "slow", "twice", "button"}
    record = await world.alice.run_slash(world.general, "ping")
    await record.wait_settled()
    assert record.outcome is Outcome.ACKNOWLEDGED
    assert record.ack_type == 4
    assert record.ack_latency is not None
    assert record.ack_latency < 3.0
    assert record.response is not None
    assert record.response.content == "pong"


async def test_button_click_answered_in_time(world: World, bot: CommandClient) -> None:
    command = await world.alice.run_slash(world.general, "button")
    await command.wait_settled()
    assert command.response is not None
    click = await world.bob.click(command.response, "Press")
    await click.wait_settled()
    assert click.outcome is Outcome.ACKNOWLEDGED
    assert click.ack_type == 7
    assert command.response.content == "pressed by bob"
    assert bot.clicks == ["bob"]


async def test_late_answer_is_recorded_as_failed_with_10062(world: World, bot: CommandClient) -> None:
    world.sim.desk.ack_window = 0.3  # a scaled-down 3 s window so the test needs no long sleep
    bot.slow_delay = 0.5
    record = await world.alice.run_slash(world.general, "slow")
    await record.wait_settled()
    assert record.outcome is Outcome.FAILED
    await world.sim.wait_for(lambda: bot.errors)
    assert isinstance(bot.errors[0], discord.NotFound)
    assert bot.errors[0].code == 10062
    assert record.rejected_callbacks == [10062]
    assert record.response is None


async def test_second_acknowledgement_gets_40060(world: World, bot: CommandClient) -> None:
    record = await world.alice.run_slash(world.general, "twice")
    await world.sim.wait_for(lambda: bot.errors)
    assert record.outcome is Outcome.ACKNOWLEDGED
    assert record.ack_type == 5
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException)
    assert error.status == 400
    assert error.code == 40060
    assert record.rejected_callbacks == [40060]


async def test_unanswered_click_fails_when_the_window_closes(world: World, client: RecordingClient) -> None:
    # `client` has no view listening, so nobody answers: exactly what a user sees as "This interaction failed".
    world.sim.desk.ack_window = 0.2
    channel = client.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Orphan", custom_id="orphan"))
    sent = await channel.send("nobody home", view=view)
    view.stop()
    record = await world.alice.click(world.sim.world.messages[sent.id], "Orphan")
    await record.wait_settled()
    assert record.failed
