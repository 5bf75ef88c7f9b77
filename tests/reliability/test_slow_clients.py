"""Slow clients do not starve the server (issue 13, point 8). Raw sockets send complete
headers with a 100 kB Content-Length and then one byte every 3 s; meanwhile a normal
request is answered within a second. Unsigned slow requests are refused from their
headers without the body being read, and a body that does not arrive in time is cut off
with 408."""
from __future__ import annotations

import os
import socket
import threading
import time

import boto3
import pytest
from botocore.config import Config

from tests.conftest import Endpoint

KEYS = "AKIDONE:one-secret:111111111111"
SLOW_CLIENTS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    endpoint = Endpoint(tmp_path_factory.mktemp("slow"), {
        "PERSONALIZE_ACCESS_KEYS": KEYS, "PERSONALIZE_CLIENT_TIMEOUT_SECONDS": "6"}).start()
    yield endpoint
    endpoint.stop()


def client(server):
    return boto3.client("personalize", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="AKIDONE", aws_secret_access_key="one-secret",
                        config=Config(retries={"max_attempts": 1}))


def slow_socket(server, headers: dict) -> socket.socket:
    """Headers of a POST with a 100 kB body, of which nothing is sent yet."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Content-Length: 100000",
             "Content-Type: application/x-amz-json-1.1",
             "X-Amz-Target: AmazonPersonalize.ListDatasetGroups"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def trickle(sockets, stop: threading.Event, every: float = 3.0) -> None:
    while not stop.wait(every):
        for sock in sockets:
            try:
                sock.sendall(b" ")
            except OSError:
                pass


def signed_slow_headers(server) -> dict:
    from tests.reliability.signing import personalize_headers, signed_headers
    body = b" " * 100_000
    headers = signed_headers("POST", server.url + "/", body,
                             personalize_headers("ListDatasetGroups"), key="AKIDONE",
                             secret="one-secret")
    return {k: v for k, v in headers.items()
            if k.lower() in ("authorization", "x-amz-date")}


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_a_normal_request_is_answered_while_slow_clients_hold_connections(server, signed):
    personalize = client(server)
    personalize.list_dataset_groups()  # a connection of its own, already open
    headers = signed_slow_headers(server) if signed else {}
    sockets = [slow_socket(server, headers) for _ in range(SLOW_CLIENTS)]
    stop = threading.Event()
    feeder = threading.Thread(target=trickle, args=(sockets, stop), daemon=True)
    feeder.start()
    try:
        time.sleep(0.5)  # the slow requests have reached the server's threads
        latencies = []
        for _ in range(10):
            started = time.perf_counter()
            personalize.list_dataset_groups()
            latencies.append(time.perf_counter() - started)
            fresh = client(server)
            started = time.perf_counter()
            fresh.list_dataset_groups()  # a new connection, too
            latencies.append(time.perf_counter() - started)
        print(f"\n{SLOW_CLIENTS} slow {'signed' if signed else 'unsigned'} clients: normal "
              f"requests max {max(latencies) * 1000:.0f} ms "
              f"(load average {os.getloadavg()[0]:.1f})")
        assert max(latencies) < 1.0
        if not signed:  # refused from the headers: answered and closed, body unread
            for sock in sockets:
                sock.settimeout(5)
                reply = sock.recv(4096)
                assert reply.startswith(b"HTTP/1.1 403"), reply[:100]
                assert b"MissingAuthenticationTokenException" in reply
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def test_a_body_that_does_not_arrive_in_time_is_cut_off(server):
    sock = slow_socket(server, signed_slow_headers(server))
    stop = threading.Event()
    threading.Thread(target=trickle, args=([sock], stop, 1.0), daemon=True).start()
    try:
        started = time.monotonic()
        sock.settimeout(30)
        reply = sock.recv(4096)
        waited = time.monotonic() - started
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b"RequestTimeoutException" in reply
        assert 5 < waited < 15   # the grace (6 s here) and a little, not forever
    finally:
        stop.set()
        sock.close()
