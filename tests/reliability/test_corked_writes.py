"""Small answers leave in one socket write; large ones pass through after the first 64 kB
(chalicelib.embedded.transport._Corked)."""
from chalicelib.embedded.transport import CORK_BYTES, _Corked


class Recorder:
    def __init__(self):
        self.writes: list[bytes] = []
        self.bytes_written = 0

    def write(self, data):
        self.writes.append(bytes(data))
        return len(data)


def test_headers_and_a_small_body_are_one_write():
    raw = Recorder()
    corked = _Corked(raw)
    corked.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
    corked.write(bytearray(b"{}"))
    assert raw.writes == []            # nothing sent before the answer is complete
    corked.flush()
    assert raw.writes == [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"]
    assert corked.bytes_written == 0   # cheroot's counters are the real writer's


def test_a_large_body_is_not_held_in_memory_and_arrives_whole():
    raw = Recorder()
    corked = _Corked(raw)
    head, chunks = b"HTTP/1.1 200 OK\r\n\r\n", [bytes([n]) * 40_000 for n in range(5)]
    corked.write(head)
    for chunk in chunks:
        corked.write(chunk)
    corked.flush()
    assert max(len(w) for w in raw.writes) <= CORK_BYTES + 40_000
    assert b"".join(raw.writes) == head + b"".join(chunks)
