"""Reputation."""
