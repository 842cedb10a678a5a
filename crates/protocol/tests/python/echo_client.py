"""Seed 000's EchoClient ("用 Protocol 抽象类实现异步 I/O"), for tulip's interop tests.

Changed from the seed only so that a test can drive it:

- the host and port come from argv;
- the loop is made with new_event_loop() and the future with
  loop.create_future(), rather than get_event_loop() and asyncio.Future(),
  which newer Pythons deprecate outside a running loop.

It exits once the server has closed the connection, as in the seed.

Usage: python3 echo_client.py HOST PORT
"""

import asyncio
import functools
import logging
import sys

MESSAGES = [
    b'This is the message. ',
    b'It will be sent ',
    b'in parts.',
]
SERVER_ADDRESS = (sys.argv[1], int(sys.argv[2]))

logging.basicConfig(
    level=logging.DEBUG,
    format='%(name)s: %(message)s',
    stream=sys.stderr,
)
log = logging.getLogger('main')

event_loop = asyncio.new_event_loop()
asyncio.set_event_loop(event_loop)


class EchoClient(asyncio.Protocol):

    def __init__(self, messages, future):
        super().__init__()
        self.messages = messages
        self.log = logging.getLogger('EchoClient')
        self.f = future

    def connection_made(self, transport):
        self.transport = transport
        self.address = transport.get_extra_info('peername')
        self.log.debug('connecting to {} port {}'.format(*self.address))
        # 这里可以是 transport.writelines()
        # 但这会使显示要发送的消息的每个部分变得更加困难
        for msg in self.messages:
            transport.write(msg)
            self.log.debug(f'sending {msg!r}')
        if transport.can_write_eof():
            transport.write_eof()

    def data_received(self, data):
        self.log.debug(f'received {data!r}')

    def eof_received(self):
        self.log.debug('received EOF')
        self.transport.close()
        if not self.f.done():
            self.f.set_result(True)

    def connection_lost(self, exc):
        self.log.debug('server closed connection')
        self.transport.close()
        if not self.f.done():
            self.f.set_result(True)
        super().connection_lost(exc)


client_completed = event_loop.create_future()

client_factory = functools.partial(
    EchoClient,
    messages=MESSAGES,
    future=client_completed,
)
factory_coroutine = event_loop.create_connection(
    client_factory,
    *SERVER_ADDRESS,
)

log.debug('waiting for client to complete')
try:
    event_loop.run_until_complete(factory_coroutine)
    event_loop.run_until_complete(client_completed)
finally:
    log.debug('closing event loop')
    event_loop.close()
