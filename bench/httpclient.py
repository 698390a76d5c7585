"""A small keep-alive HTTP/1.1 client for the benchmarks (loopback only): one connection, requests one at a time,
Content-Length and chunked bodies. Lighter than an HTTP library, so the load generator costs the shared cores little."""
from __future__ import annotations

import asyncio


class Connection:
    def __init__(self, port: int, *, source: str | None = None):
        self.port = port
        self.source = source  # a loopback source address (127.0.0.x), so per-address throttles see many clients
        self.reader = self.writer = None

    async def request(self, method: str, path: str, *, cookie: str = "", body: bytes = b"",
                      headers: dict | None = None) -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, local_addr=(self.source, 0) if self.source else None)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept-Language: zh-CN",
                 "Connection: keep-alive", f"Content-Length: {len(body)}"]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        head_lines = head.decode("latin-1").split("\r\n")
        status = int(head_lines[0].split()[1])
        fields = {}
        for line in head_lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                name = name.strip().lower()
                if name == "set-cookie" and name in fields:  # several cookies: one per line
                    fields[name] += "\n" + value.strip()
                else:
                    fields[name] = value.strip()
        if "content-length" in fields:
            data = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.read()
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, fields, data

    async def get(self, path: str, cookie: str | None = None) -> tuple[int, dict, bytes]:
        return await self.request("GET", path, cookie=cookie or "")

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except Exception:
                pass
        self.reader = self.writer = None
