"""An SMTP sink that answers each command `--delay` seconds after it arrived, as a relay that
far away would: commands written together (PIPELINING) are answered together, one after
another wait one delay each. It accepts and discards everything.

    python -m bench.slow_relay --port 2525 --delay 0.025 [--no-pipelining]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time


class Session:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        delay: float,
        pipelining: bool,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.delay = delay
        self.pipelining = pipelining
        self.replies: asyncio.Queue[tuple[float, bytes, bool]] = asyncio.Queue()

    def answer(self, text: str, *, close: bool = False) -> None:
        self.replies.put_nowait((time.monotonic() + self.delay, text.encode() + b"\r\n", close))

    async def send_replies(self) -> None:
        while True:
            due, data, close = await self.replies.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.writer.write(data)
            await self.writer.drain()
            if close:
                self.writer.close()
                return

    async def run(self) -> None:
        sender = asyncio.create_task(self.send_replies())
        self.answer("220 relay.bench ESMTP")
        extensions = ["8BITMIME", "SMTPUTF8"] + (["PIPELINING"] if self.pipelining else [])
        try:
            while True:
                line = await self.reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    lines = ["relay.bench", *extensions]
                    self.answer(
                        "\r\n".join(
                            f"250{'-' if i < len(lines) - 1 else ' '}{text}"
                            for i, text in enumerate(lines)
                        )
                    )
                elif verb == b"DATA":
                    self.answer("354 go ahead")
                    while True:
                        body = await self.reader.readline()
                        if not body or body == b".\r\n":
                            break
                    self.answer("250 2.0.0 queued")
                elif verb == b"QUIT":
                    self.answer("221 bye", close=True)
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    self.answer("250 OK")
            await sender
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(Exception):
                self.writer.close()


async def serve(port: int, delay: float, pipelining: bool) -> None:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Session(reader, writer, delay, pipelining).run()

    server = await asyncio.start_server(client, "127.0.0.1", port, limit=2**20)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.025)
    parser.add_argument("--no-pipelining", action="store_true")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay, not args.no_pipelining))


if __name__ == "__main__":
    main()
