"""Shared test helper: small archives in tonic's layouts, served from a local HTTP server (127.0.0.1, a free port),
so ``snn_core.data.fetch`` downloads through its real code path without the internet."""
from __future__ import annotations

import hashlib
import io
import socket
import stat
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from snn_core.data.fetch import Archive

EVENT = bytes([3, 4, 0x80, 0x00, 0x10])          # one N-MNIST event: x 3, y 4, polarity 1, t 16 µs


def zip_bytes(members: dict[str, bytes | zipfile.ZipInfo]) -> bytes:
    """A zip of ``members``; a ``ZipInfo`` value (``symlink_member``) is written with its own attributes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            if isinstance(data, zipfile.ZipInfo):
                info, payload = zipfile.ZipInfo(name), data.comment
                info.external_attr = data.external_attr
                archive.writestr(info, payload)
            else:
                archive.writestr(name, data)
    return buffer.getvalue()


def symlink_member(target: str) -> zipfile.ZipInfo:
    """A zip member that is a symbolic link to ``target`` (Unix mode S_IFLNK, the target as its data)."""
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.comment = target.encode()
    return info


def tar_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return buffer.getvalue()


def nmnist_zip(split: str, per_digit: int = 2) -> bytes:
    """An N-MNIST release archive as tonic downloads it: ``Train/<digit>/<n>.bin`` (or ``Test/``)."""
    return zip_bytes({f"{split}/{digit}/{n:05d}.bin": EVENT * (n + 1) for digit in range(10)
                      for n in range(per_digit)})


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class DatasetServer:
    """Serves ``files`` (name -> bytes) over HTTP with Range support; ``cut[name] = n`` sends only the first n
    bytes of the next full response for ``name`` (announcing them all) and closes the connection, once."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.cut, self.requests = dict(files), {}, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests.append((name, self.headers.get("Range")))
                data = server.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                start, status = 0, 200
                ranged = self.headers.get("Range", "")
                if ranged.startswith("bytes=") and ranged.endswith("-"):
                    start = int(ranged[6:-1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                body = data[start:]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Connection", "close")
                self.end_headers()
                cut = server.cut.pop(name, None)
                self.wfile.write(body if cut is None else body[:cut])
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def archive(self, name: str, md5_of: bytes | None = None) -> Archive:
        """The ``Archive`` entry for a served file (its md5, or that of ``md5_of`` for a mismatch)."""
        return Archive(self.url(name), name, md5(self.files[name] if md5_of is None else md5_of))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url(name: str) -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just freed): connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"
