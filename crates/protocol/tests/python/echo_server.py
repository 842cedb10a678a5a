"""Seed 000's EchoServer ("用 Protocol 抽象类实现异步 I/O"), for tulip's interop tests.

Changed from the seed only so that a test can drive it:

- the host comes from argv (default 127.0.0.1) and the port is 0, so the
  system picks a free one; the server prints it on stdout as its first line,
  "PORT <n>", and flushes;
- the server stops after serving one connection (its connection_lost stops
  the loop), or once its stdin, when a pipe, is closed (the test that started
  it is gone), instead of running until Ctrl-C;
- the loop is made with new_event_loop() rather than get_event_loop(),
  which newer Pythons deprecate outside a running loop.

Usage: python3 echo_server.py [HOST]
"""

import asyncio
import logging
import os
import stat
import sys

SERVER_ADDRESS = (sys.argv[1] if len(sys.argv) > 1 else '127.0.0.1', 0)

logging.basicConfig(
    level=logging.DEBUG,
    format='%(name)s: %(message)s',
    stream=sys.stderr,
)
log = logging.getLogger('main')

event_loop = asyncio.new_event_loop()
asyncio.set_event_loop(event_loop)


class EchoServer(asyncio.Protocol):

    def connection_made(self, transport):
        self.transport = transport
        self.address = transport.get_extra_info('peername')
        self.log = logging.getLogger('EchoServer_{}_{}'.format(*self.address))
        self.log.debug('connection accepted')

    def data_received(self, data):
        self.log.debug('received {!r}'.format(data))
        self.transport.write(data)
        self.log.debug('sent {!r}'.format(data))

    def eof_received(self):
        self.log.debug('received EOF')
        if self.transport.can_write_eof():
            self.transport.write_eof()

    def connection_lost(self, error):
        if error:
            self.log.error(f'ERROR: {error}')
        else:
            self.log.debug('closing')
        super().connection_lost(error)
        # One connection served: stop (the seed runs until Ctrl-C).
        event_loop.stop()


factory = event_loop.create_server(EchoServer, *SERVER_ADDRESS)
server = event_loop.run_until_complete(factory)
port = server.sockets[0].getsockname()[1]
print(f'PORT {port}', flush=True)
log.debug('starting up on {} port {}'.format(SERVER_ADDRESS[0], port))


def stdin_readable():
    # EOF on stdin: whoever started the server is gone, so stop.
    if not os.read(sys.stdin.fileno(), 4096):
        event_loop.stop()


if stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode):
    event_loop.add_reader(sys.stdin.fileno(), stdin_readable)

try:
    event_loop.run_forever()
finally:
    log.debug('closing server')
    server.close()
    event_loop.run_until_complete(server.wait_closed())
    log.debug('closing event loop')
    event_loop.close()
