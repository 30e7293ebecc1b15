"""Loudness measurement with real FFmpeg (ebur128) and the gain rule that follows from it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytunes.music.media.errors import MediaError, UnsafeUrlError
from pytunes.music.media.ffmpeg import MAX_GAIN, plan_audio
from pytunes.music.media.loudness import (
    UNITY_DB,
    combined_gain,
    gain_db_for,
    gain_for,
    measure_command,
    measure_lufs,
    parse_integrated,
)
from simcord.tones import render_tone
from tests.media.conftest import MediaFiles


@pytest.mark.parametrize(("amplitude", "codec"), [(0.1, ()), (0.5, ("-c:a", "libopus", "-b:a", "128k"))])
async def test_a_sine_measures_at_its_level(tmp_path: Path, amplitude: float, codec: tuple[str, ...]) -> None:
    suffix = ".webm" if codec else ".wav"
    path = render_tone(tmp_path / f"sine{suffix}", 1000, 6, *codec, amplitude=amplitude)
    lufs = await measure_lufs(path, root=tmp_path)
    assert lufs is not None
    assert lufs == pytest.approx(20 * math.log10(amplitude), abs=0.5)


async def test_silence_has_no_loudness(tmp_path: Path) -> None:
    assert (
        await measure_lufs(render_tone(tmp_path / "silence.wav", 1000, 3, amplitude=0.0), root=tmp_path)
        is None
    )


async def test_unreadable_and_escaping_files_are_refused(tmp_path: Path, media_files: MediaFiles) -> None:
    with pytest.raises(MediaError):
        await measure_lufs(media_files.corrupt, root=media_files.root)
    with pytest.raises(UnsafeUrlError):
        await measure_lufs(media_files.mp3, root=tmp_path)  # outside the folder it must stay in


def test_the_measurement_reads_only_local_files(media_files: MediaFiles) -> None:
    command = measure_command(media_files.webm, executable="ffmpeg", root=media_files.root)
    assert command[command.index("-protocol_whitelist") + 1] == "file"
    assert command[command.index("-i") + 1] == f"file:{media_files.webm.resolve()}"
    assert "ebur128=framelog=quiet" in command
    assert not any("loudnorm" in part for part in command)


def test_the_summary_is_parsed() -> None:
    report = "\n  Integrated loudness:\n    I:         -23.4 LUFS\n    Threshold: -33.4 LUFS\n"
    assert parse_integrated(report) == -23.4
    assert parse_integrated(report.replace("-23.4", "-70.0")) is None
    with pytest.raises(ValueError, match="summary"):
        parse_integrated("no summary here")


def test_gain_moves_toward_the_target_within_the_clamps() -> None:
    assert gain_db_for(-20.0, -14.0, -12.0, 6.0) == pytest.approx(6.0)
    assert gain_db_for(-30.0, -14.0, -12.0, 6.0) == pytest.approx(6.0)  # clamped up
    assert gain_db_for(-5.0, -14.0, -12.0, 6.0) == pytest.approx(-9.0)
    assert gain_db_for(5.0, -14.0, -12.0, 6.0) == pytest.approx(-12.0)  # clamped down
    assert gain_for(-20.0, -14.0, -12.0, 6.0) == pytest.approx(10 ** (6 / 20))
    assert gain_for(None, -14.0, -12.0, 6.0) == 1.0
    assert gain_for(-14.05, -14.0, -12.0, 6.0) == 1.0, "an inaudible change keeps passthrough"


@given(
    lufs=st.one_of(st.none(), st.floats(min_value=-80, max_value=10)),
    target=st.floats(min_value=-40, max_value=0),
    min_db=st.floats(min_value=-40, max_value=0),
    max_db=st.floats(min_value=0, max_value=20),
    volume=st.integers(min_value=0, max_value=500),
)
def test_gain_is_always_clamped_and_playable(
    lufs: float | None, target: float, min_db: float, max_db: float, volume: int
) -> None:
    gain = gain_for(lufs, target, min_db, max_db)
    db = 20 * math.log10(gain)
    assert min_db - 1e-9 <= db <= max_db + 1e-9
    assert gain == 1.0 or abs(db) >= UNITY_DB
    total = combined_gain(volume, gain)
    assert 0.0 <= total <= MAX_GAIN
    assert math.isfinite(total)


def test_passthrough_survives_a_unity_gain(media_files: MediaFiles) -> None:
    root = media_files.root
    # Normalization that changes nothing (unknown loudness, or within 0.1 dB) keeps the Opus copy.
    unity = combined_gain(100, gain_for(-14.04, -14.0, -12.0, 6.0))
    assert unity == 1.0
    assert plan_audio(media_files.webm, gain=unity, acodec="opus", library_root=root).codec == "copy"
    louder = combined_gain(100, gain_for(-20.0, -14.0, -12.0, 6.0))
    plan = plan_audio(media_files.webm, gain=louder, acodec="opus", library_root=root)
    assert plan.codec == "libopus"
    assert f"volume={louder:.6f}" in plan.options
    # Volume and normalization can cancel out: half volume, +6.02 dB.
    assert combined_gain(50, 2.0) == 1.0
    # Without normalization the volume is exactly what was set, as before.
    assert combined_gain(99, 1.0) == 0.99
    assert combined_gain(500, 4.0) == MAX_GAIN
