"""Try a bot without Discord: a demo guild in simcord and a terminal to act as its users."""

from simcord.sandbox.console import stdin_reader
from simcord.sandbox.demo import DemoWorld, build_demo_world
from simcord.sandbox.render import render_deleted, render_embed, render_message
from simcord.sandbox.terminal import Terminal, run_terminal

__all__ = [
    "DemoWorld",
    "Terminal",
    "build_demo_world",
    "render_deleted",
    "render_embed",
    "render_message",
    "run_terminal",
    "stdin_reader",
]
