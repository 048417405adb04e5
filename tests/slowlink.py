"""A slow, lossy link in user space, for kernels without `tc netem` (tests/test_hosts.py).

A TCP relay on 127.0.0.1 inside a host: each route `PORT:HOST:TARGET_PORT` forwards to HOST, and each
direction's bytes arrive late as over such a link, in order, as TCP hands them to the application:
every chunk `delay ± jitter` after it was sent, plus one retransmission timeout for each of its
1448-byte segments that the link loses (`loss` per segment). The host's processes are pointed at
the relay instead of the remote address; what crosses the host's real link is untouched.

    python -m tests.slowlink --delay-ms 150 --jitter-ms 50 --loss-pct 5 16379:10.231.7.1:6379 ...
"""
from __future__ import annotations

import argparse
import asyncio
import random
from dataclasses import dataclass

SEGMENT = 1448  # bytes of one TCP segment on a 1500-byte Ethernet link
MIN_RTO_S = 0.2  # Linux's smallest retransmission timeout


@dataclass
class Link:
    """When bytes sent now arrive: delay, jitter, and one retransmission timeout per lost segment."""

    delay_s: float
    jitter_s: float
    loss: float
    rng: random.Random

    @property
    def rto_s(self) -> float:
        return MIN_RTO_S + 2 * self.delay_s  # about one round trip and its variance

    def arrival(self, nbytes: int, now: float, previous: float) -> float:
        segments = max(1, -(-nbytes // SEGMENT))
        lost = sum(self.rng.random() < self.loss for _ in range(segments))
        late = self.delay_s + self.rng.uniform(-self.jitter_s, self.jitter_s) + lost * self.rto_s
        return max(now + late, previous)  # a stream: nothing overtakes what was sent before it


async def _carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link) -> None:
    """Copy one direction, each chunk written at its arrival time; close the far side after the last."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            at, data = await queue.get()
            await asyncio.sleep(max(0.0, at - loop.time()))
            if not data:
                break
            writer.write(data)
            await writer.drain()

    delivering = asyncio.create_task(deliver())
    last = loop.time()
    try:
        while data := await reader.read(65536):
            last = link.arrival(len(data), loop.time(), last)
            queue.put_nowait((last, data))
    except ConnectionError:
        pass
    queue.put_nowait((last, b""))
    try:
        await delivering
    except ConnectionError:
        pass
    finally:
        writer.close()


def _route(target_host: str, target_port: int, link: Link):
    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            far_reader, far_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_carry(reader, far_writer, link), _carry(far_reader, writer, link),
                             return_exceptions=True)
    return accepted


async def serve(routes: list[str], link: Link) -> None:
    servers = []
    for spec in routes:
        listen, target_host, target_port = spec.split(":")
        servers.append(await asyncio.start_server(_route(target_host, int(target_port), link), "127.0.0.1",
                                                  int(listen)))
    print("relaying", " ".join(routes), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--loss-pct", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("routes", nargs="+", help="LISTEN_PORT:TARGET_HOST:TARGET_PORT")
    args = parser.parse_args()
    link = Link(args.delay_ms / 1000, args.jitter_ms / 1000, args.loss_pct / 100, random.Random(args.seed))
    asyncio.run(serve(args.routes, link))


if __name__ == "__main__":
    main()
