"""Settings: `.env.example` documents every setting and parses to the defaults, and bad values are refused
clearly. (docs/configuration.md against both: test_config_doc.py.)"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import ValidationError

from pytunes.config import Settings

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"


@dataclass
class EnvSection:
    title: str | None  # a "# ---- Music ----" heading; None for the settings before the first one
    names: list[str] = field(default_factory=list)  # setting names as in the file, in its order
    comments: dict[str, str] = field(default_factory=dict)  # each setting's comment (shared by a block)


def env_example_sections(text: str | None = None) -> list[EnvSection]:
    """.env.example read as sections of settings, each setting with the comment block above it (a block
    right above several settings documents all of them)."""
    sections = [EnvSection(None)]
    comment: list[str] = []
    last_was_setting = False
    for line in (ENV_EXAMPLE.read_text(encoding="utf-8") if text is None else text).splitlines():
        heading = re.fullmatch(r"#\s*-{2,}\s*(.+?)\s*-{2,}\s*", line)
        setting = re.fullmatch(r"([A-Z][A-Z0-9_]*)=.*", line)
        if heading:
            sections.append(EnvSection(heading[1]))
            comment, last_was_setting = [], False
        elif setting:
            sections[-1].names.append(setting[1])
            sections[-1].comments[setting[1]] = " ".join(comment)
            last_was_setting = True
        elif line.startswith("#"):
            if last_was_setting:
                comment, last_was_setting = [], False
            comment.append(line.lstrip("#").strip())
        elif not line.strip() and not last_was_setting:
            comment = []  # a comment followed by a blank line belongs to no setting
    return [s for s in sections if s.names]


def test_env_example_documents_every_setting_and_parses_to_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    example = ENV_EXAMPLE
    listed = [name for section in env_example_sections() for name in section.names]
    assert sorted(listed) == sorted(name.upper() for name in Settings.model_fields), "each setting once"
    silent = [name for s in env_example_sections() for name, text in s.comments.items() if not text]
    assert not silent, f"settings in .env.example without a comment above them: {silent}"
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


def test_env_example_sections_pair_settings_with_their_comments() -> None:
    sections = env_example_sections(
        "# Header, not about any setting.\n\n# The first.\nFIRST=1\n\n# ---- Music ----\n"
        "# Shared by two.\nA=\nB=2\nC=3\n\n# Stray comment.\n\nD=\n"
    )
    assert [(s.title, s.names) for s in sections] == [(None, ["FIRST"]), ("Music", ["A", "B", "C", "D"])]
    assert sections[1].comments == {
        "A": "Shared by two.",
        "B": "Shared by two.",
        "C": "Shared by two.",
        "D": "",
    }
