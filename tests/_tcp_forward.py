"""A TCP forwarder for tests/test_multi_host.py: ``python _tcp_forward.py TARGET LISTEN...``.

Each LISTEN (``host:port``) accepts connections and relays their bytes both ways
to TARGET (``host:port``). The multi-host test listens on the root namespace's end
of each host's veth pair and relays to the PostgreSQL server on 127.0.0.1, so
processes in the hosts' namespaces reach the one database over their own link
(and lose it when that link is cut). Prints ``ready`` once listening. Started as
a script: no pytest, no planflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


async def main(target: str, listens: list[str]) -> None:
    target_host, target_port = target.rsplit(":", 1)

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    servers = []
    for listen in listens:
        host, port = listen.rsplit(":", 1)
        servers.append(await asyncio.start_server(relay, host, int(port)))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
