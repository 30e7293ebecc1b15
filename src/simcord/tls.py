"""A throwaway certificate authority for simcord's TLS endpoints.

discord.py builds the voice websocket URL as `wss://{endpoint}/?v=8` (docs/discord-notes.md, 'The voice
handshake'), so the voice server must speak TLS. Rather than teach clients to skip verification, simcord makes
a CA that lives only as long as the process, issues a certificate for 127.0.0.1 (IP SAN) and localhost,
and writes the CA to a PEM file that a client adds to its trust store: PyTunes through its
DISCORD_CA_FILE setting, plain discord.py clients in tests through `client_connector(ca_file)`.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
import weakref
from pathlib import Path

import aiohttp
import trustme


class ThrowawayCA:
    """A CA, a server certificate for 127.0.0.1 and localhost, and the CA's PEM file on disk."""

    def __init__(self) -> None:
        # trustme's default keys are ECDSA: generating them takes milliseconds, not the RSA seconds.
        self._ca = trustme.CA(organization_name="simcord throwaway CA")
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self._dir = Path(tempfile.mkdtemp(prefix="simcord-ca-"))
        # Removed by cleanup(), or at interpreter exit for a simcord that was never stopped.
        self._remove = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self.ca_file = str(self._dir / "simcord-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_file)

    def server_context(self) -> ssl.SSLContext:
        """An SSLContext for a server presenting the 127.0.0.1/localhost certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def cleanup(self) -> None:
        """Delete the CA file; clients that loaded it already keep trusting it in memory."""
        self._remove()


def client_ssl_context(ca_file: str) -> ssl.SSLContext:
    """The system's default verification plus trust in simcord's CA, hostname checks left on."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=ca_file)
    return context


def client_connector(ca_file: str) -> aiohttp.TCPConnector:
    """A connector for `discord.Client(connector=...)`; call it with an event loop running."""
    return aiohttp.TCPConnector(ssl=client_ssl_context(ca_file))
