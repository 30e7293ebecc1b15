"""Media resolution and the audio pipeline.

Modules (import the one you need; this package imports nothing heavy because the yt-dlp worker
processes import it too):

- `resolver`: the async API the music service uses (`classify`, `MediaResolver.resolve/search/
  fetch_stream`).
- `ffmpeg`: `build_audio_source` (discord.py `FFmpegOpusAudio` with a protocol whitelist),
  `probe_codec`, `ffmpeg_path`.
- `safety`: URL checks (http/https only, public addresses only unless the operator allows private ones).
- `worker` / `extract`: the yt-dlp process pool and the code that runs inside it.
- `youtube`, `ytapi`: YouTube URL forms and the optional YouTube Data API client.
"""

from pytunes.music.media.config import MediaConfig
from pytunes.music.media.errors import MediaError
from pytunes.music.media.results import MediaEntry, PlaylistResult, ResolvedMedia, SourceKind

__all__ = ["MediaConfig", "MediaEntry", "MediaError", "PlaylistResult", "ResolvedMedia", "SourceKind"]
