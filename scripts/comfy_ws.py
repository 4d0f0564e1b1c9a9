"""A minimal WebSocket client (RFC 6455, standard library only) for ComfyUI's `/ws` event stream.

Enough for a client that listens: the opening handshake (checked), text and binary messages
(fragmented or not), answering pings, and closing. Frames we send are masked, as a client must.
"""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"   # RFC 6455, section 1.3
_TEXT, _BINARY, _CONTINUATION, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


class HandshakeError(OSError):
    pass


class WebSocket:
    def __init__(self, host: str, port: int, path: str, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise HandshakeError(f"connection closed during the handshake: {raw!r}")
            raw += chunk
        head, self._buffer = raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        if " 101 " not in lines[0] + " " or headers.get("sec-websocket-accept") != accept:
            raise HandshakeError(f"not a WebSocket answer: {lines[0]!r}")
        self.sock.settimeout(None)   # recv() blocks until a message comes or close() is called

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("WebSocket connection closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _send(self, opcode: int, payload: bytes = b"") -> None:
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self):
        """The next message: str (text), bytes (binary), or None once the server closed."""
        parts, kind = [], None
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length, = struct.unpack("!H", self._read(2))
            elif length == 127:
                length, = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == _CLOSE:
                return None
            if opcode == _PING:
                self._send(_PONG, payload)
                continue
            if opcode == _PONG:
                continue
            if opcode != _CONTINUATION:
                kind = opcode
            parts.append(payload)
            if first & 0x80:          # FIN: the message is complete
                data = b"".join(parts)
                return data.decode("utf-8") if kind == _TEXT else data

    def close(self) -> None:
        """Close the connection; a recv() blocked in another thread returns or raises OSError."""
        try:
            self._send(_CLOSE)
        except OSError:
            pass                       # the server went first: nothing to say goodbye to
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass                       # already shut down by the peer
        self.sock.close()
