"""The sandbox's HTTP server prints no traceback when a client hangs up on a
kept-alive connection (it used to, in the middle of the suite's output)."""

from __future__ import annotations

import socket
import struct
import time

from stripe_sandbox.server import start


def test_a_client_that_resets_its_connection_prints_nothing(capfd):
    server = start()
    try:
        client = socket.create_connection(("127.0.0.1", server.port))
        client.sendall(b"GET /v1/balance HTTP/1.1\r\nHost: x\r\n")  # a request cut short
        # Close with a reset (SO_LINGER 0), as a pool dropping a connection can.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        time.sleep(0.3)  # the handler thread reads, meets the reset and ends
    finally:
        server.stop()
    assert "Traceback" not in capfd.readouterr().err
