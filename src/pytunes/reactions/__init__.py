"""Keyword reactions: the bot reacts with an emoji to messages that match configured patterns."""
