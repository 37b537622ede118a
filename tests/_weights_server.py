"""A local HTTP server standing in for download.pytorch.org in the download tests (no network in CI).

``serve({"/models/vgg19-1a2b3c4d.pth": data})`` serves ``data`` at that path, in 64 KiB pieces, ``pause`` seconds
apart (a slow link, so a test can cancel mid-way); ``truncate`` bytes are promised but never sent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIECE = 1 << 16


def named_for(data: bytes, stem: str = "vgg19") -> str:
    """A torchvision-style file name for ``data``: ``<stem>-<first 8 hex of its sha256>.pth``."""
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth"


@contextmanager
def serve(files: dict[str, bytes], pause: float = 0.0, truncate: int = 0) -> Iterator[str]:
    """Serve ``files`` on 127.0.0.1; yields the base URL (``http://127.0.0.1:PORT``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            data = files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                for start in range(0, len(data) - truncate, PIECE):
                    self.wfile.write(data[start : min(start + PIECE, len(data) - truncate)])
                    if pause:
                        time.sleep(pause)
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: a cancel
                return

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
