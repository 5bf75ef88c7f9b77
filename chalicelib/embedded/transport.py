"""The embedded server's defences against slow clients.

A request thread that waits on a client's bytes serves nobody else. So:
- a body must keep arriving: `read_body` gives it CLIENT_TIMEOUT_SECONDS plus one second
  per MIN_BODY_RATE bytes, then answers 408 and closes the connection;
- a refused request is answered without reading its body, and its connection closed
  (cheroot would otherwise read the whole body before answering: `ClosingGateway`);
- the thread pool grows while every thread is busy (`ElasticPool`, up to a maximum), so
  connections held by slow clients do not queue everyone else behind them.
"""
from __future__ import annotations

import hashlib
import heapq
import io
import itertools
import socket
import tempfile
import threading
import time

from cheroot import wsgi

MIN_BODY_RATE = 64 * 1024          # bytes per second a body must average after the grace
SPILL_BYTES = 8 << 20             # a body beyond this goes to a temporary file
_CHUNK = 1 << 16
CLOSE_CONNECTION = "personalize.close_connection"
BODY_DEADLINE = "personalize.body_deadline"   # (seconds) -> cancel()


class BodyTimeout(Exception):
    """The client did not send its body in time."""


class Body:
    """A request body read in full: its chunks in memory up to SPILL_BYTES, then in a
    temporary file (a SpooledTemporaryFile per request cost more than parsing it)."""

    def __init__(self):
        self._chunks: list[bytes] = []
        self._file = None
        self._kept = 0
        self.size = 0   # bytes received, kept or not (read_body counts them)
        self.sha256 = hashlib.sha256()

    def keep(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self._kept += len(chunk)
        if self._file is None and self._kept > SPILL_BYTES:
            self._file = tempfile.TemporaryFile()
            self._file.writelines(self._chunks)
            self._chunks = []
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._chunks.append(chunk)

    def bytes(self) -> bytes:
        if self._file is None:
            return b"".join(self._chunks)
        self._file.seek(0)
        return self._file.read()

    @property
    def file(self):
        """The body as a file positioned at its start."""
        if self._file is None:
            return io.BytesIO(b"".join(self._chunks))
        self._file.seek(0)
        return self._file


def read_body(environ, timeout_seconds: float, keep_limit: int | None = None) -> Body | None:
    """The whole body (Content-Length or chunked). Over `keep_limit` bytes: the rest is
    read and dropped, and None returned (the caller answers 413). Raises BodyTimeout when
    the client is slower than the grace and MIN_BODY_RATE allow, or stops sending."""
    length = environ.get("CONTENT_LENGTH")
    length = int(length) if length and length.isdigit() else None
    if length is None and not environ.get("wsgi.input_terminated"):
        return Body()
    stream, body, started = environ["wsgi.input"], Body(), time.monotonic()
    # A read blocks until its whole chunk is in, however slowly it trickles: the
    # watchdog ends the reading side of the socket when the allowance is spent.
    allowance = timeout_seconds + (length if length is not None else 0) / MIN_BODY_RATE
    arm = environ.get(BODY_DEADLINE)
    cancel = arm(allowance) if arm is not None and length else None
    try:
        while length is None or body.size < length:
            want = _CHUNK if length is None else min(_CHUNK, length - body.size)
            try:
                chunk = stream.read(want)
            except OSError:  # the socket's own timeout: nothing arrived for a while
                raise BodyTimeout() from None
            if not chunk:
                break
            body.size += len(chunk)
            if keep_limit is None or body.size <= keep_limit:
                body.keep(chunk)
            if length is None and time.monotonic() - started > (
                    timeout_seconds + body.size / MIN_BODY_RATE):
                raise BodyTimeout()
    finally:
        if cancel is not None:
            cancel()
    if length is not None and body.size < length and (
            time.monotonic() - started >= allowance):
        raise BodyTimeout()
    return body if keep_limit is None or body.size <= keep_limit else None


class Watchdog(threading.Thread):
    """One thread for every body being read: calls a callback when its deadline passes
    unless it was cancelled first (a timer thread per request would cost more)."""

    def __init__(self):
        super().__init__(daemon=True, name="body-watchdog")
        self._heap: list[list] = []   # [due, token, callback or None once cancelled]
        self._changed = threading.Condition()
        self._ids = itertools.count()

    def watch(self, seconds: float, callback):
        """Returns the function that cancels it."""
        entry = [time.monotonic() + seconds, next(self._ids), callback]
        with self._changed:
            # Wake the thread only when this deadline comes before the one it sleeps
            # until: deadlines are mostly later than the earliest, and a wake-up per
            # request (a thread switch and a GIL hand-off) cost the hot path more than
            # the rest of the watchdog together. A cancelled entry stays in the heap
            # until its deadline, without its callback (and the request it holds).
            earliest = not self._heap or entry[0] < self._heap[0][0]
            heapq.heappush(self._heap, entry)
            if earliest:
                self._changed.notify()

        def cancel():
            entry[2] = None   # one reference store: atomic under the GIL
        return cancel

    def run(self) -> None:
        while True:
            with self._changed:
                while self._heap and self._heap[0][2] is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._changed.wait()
                    continue
                due = self._heap[0][0]
                if due > time.monotonic():
                    self._changed.wait(due - time.monotonic())
                    continue
                callback = heapq.heappop(self._heap)[2]
            if callback is None:   # cancelled between the check and the pop
                continue
            try:
                callback()
            except OSError:
                pass


_watchdog: Watchdog | None = None
_watchdog_lock = threading.Lock()


def watchdog() -> Watchdog:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None:
            _watchdog = Watchdog()
            _watchdog.start()
        return _watchdog


def close_connection(environ) -> None:
    """Answer this request and then close its connection, without reading the rest of
    its body."""
    closer = environ.get(CLOSE_CONNECTION)
    if closer is not None:
        closer()


class _Corked:
    """A socket writer that holds a response's first CORK_BYTES and sends them in one write
    when the response is done (or once they are exceeded, and then passes writes through).
    cheroot writes the status line and headers, then the body, as separate sends: on
    loopback each send wakes the client, and on two cores the client then preempts the
    server mid-response. One send per small answer instead of two."""

    def __init__(self, raw):
        self.raw, self.held, self.size, self.passing = raw, [], 0, False

    def write(self, data):
        if self.passing:
            return self.raw.write(data)
        self.held.append(bytes(data))
        self.size += len(data)
        if self.size > CORK_BYTES:
            self.flush()
            self.passing = True
        return len(data)

    def flush(self):
        if self.held:
            data, self.held, self.size = b"".join(self.held), [], 0
            self.raw.write(data)

    def __getattr__(self, name):   # bytes_written and the rest of cheroot's writer
        return getattr(self.raw, name)


CORK_BYTES = 1 << 16


class ClosingGateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, with ways for the app to close the connection and to
    bound the next socket read, and small answers sent in one write (_Corked)."""

    def respond(self):
        connection = self.req.conn
        raw = connection.wfile
        connection.wfile = corked = _Corked(raw)
        try:
            super().respond()
        finally:
            connection.wfile = raw
            corked.flush()

    def get_environ(self):
        environ = super().get_environ()
        environ[CLOSE_CONNECTION] = lambda: setattr(self.req, "close_connection", True)
        environ[BODY_DEADLINE] = self._body_deadline
        return environ

    def _body_deadline(self, seconds: float):
        """When `seconds` pass before it is cancelled, the socket stops reading (a
        blocked read returns short) and the connection is closed after the answer."""
        sock = self.req.conn.socket

        def expire():
            self.req.close_connection = True
            sock.shutdown(socket.SHUT_RD)
        return watchdog().watch(seconds, expire)


class ElasticPool(threading.Thread):
    """Grows cheroot's request-thread pool while no thread is idle (up to its maximum)
    and gives the extra threads back once they have idled for a while."""

    def __init__(self, server: wsgi.Server, period: float = 0.01, idle_seconds: float = 30):
        super().__init__(daemon=True, name="elastic-pool")
        self.server, self.period, self.idle_seconds = server, period, idle_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        spare_since = None
        while not self._stop_event.wait(self.period):
            pool = self.server.requests
            if not getattr(pool, "_threads", None):
                continue
            if pool.idle == 0:
                pool.grow(max(1, pool.min // 2))
                spare_since = None
            elif len(pool._threads) > pool.min and pool.idle > pool.min // 2:
                spare_since = spare_since or time.monotonic()
                if time.monotonic() - spare_since > self.idle_seconds:
                    pool.shrink(len(pool._threads) - pool.min)
                    spare_since = None

    def stop(self) -> None:
        self._stop_event.set()
