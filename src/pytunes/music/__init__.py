"""Music: one player per guild.

`model/` is the pure part (tracks, the gates, volume parsing, the player state machine); it imports
nothing from Discord and does no I/O. The service drives discord.py voice from the model's effects and
the cog only parses commands and sends replies.
"""
