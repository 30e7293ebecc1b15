"""Settings: the documented example parses to the defaults, and bad values are refused clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from pytunes.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_documents_every_setting_and_parses_to_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    example = ROOT / ".env.example"
    documented = set(re.findall(r"^([A-Z_]+)=", example.read_text(), flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}
    from_example = Settings(_env_file=example)  # type: ignore[call-arg]
    assert from_example == Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.token is None


def test_environment_overrides_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "abc")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.token == "abc"
    assert settings.log_level == "DEBUG"
    assert "abc" not in repr(settings), "the token must never appear in logs"
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ValidationError, match="unknown log level"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setenv("REPLY_DELETE_SECONDS", "-1")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
