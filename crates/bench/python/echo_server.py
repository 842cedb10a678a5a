"""tulip-bench's Python echo server: asyncio's streams API, on asyncio's
own event loop or on uvloop's.

    python3 echo_server.py asyncio|uvloop READ_SIZE

The handler is the tulip server's, line for line: read up to READ_SIZE
bytes, write them back, drain, until EOF; then close. It listens on
127.0.0.1 (an ephemeral port), prints `LISTENING 127.0.0.1:PORT` once it
does, and stops when its stdin reaches EOF (the harness closes it).

tulip-bench embeds this file (include_str!) and runs it as
`python3 -c SOURCE KIND READ_SIZE`, so it needs no file on disk.
"""

import asyncio
import os
import resource
import sys
import threading


def raise_nofile_limit():
    """Raises the soft RLIMIT_NOFILE to the hard one (M2 opens thousands)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as error:
            sys.stderr.write(f"echo_server.py: cannot raise RLIMIT_NOFILE: {error}\n")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("asyncio", "uvloop"):
        sys.stderr.write("usage: echo_server.py asyncio|uvloop READ_SIZE\n")
        return 2
    kind = sys.argv[1]
    read_size = int(sys.argv[2])
    raise_nofile_limit()

    if kind == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    async def echo(reader, writer):
        try:
            while True:
                data = await reader.read(read_size)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def serve():
        stop = loop.create_future()

        def wait_for_eof():
            # Blocks in read(2) without the GIL; EOF means "stop".
            while sys.stdin.buffer.read1(4096):
                pass
            loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write(f"LISTENING 127.0.0.1:{port}\n")
        sys.stdout.flush()
        threading.Thread(target=wait_for_eof, daemon=True).start()
        await stop
        server.close()

    loop.run_until_complete(serve())
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Connections still open at the stop are abandoned, not awaited: skip
    # the interpreter's teardown (and its "task was destroyed" warnings).
    os._exit(code)
