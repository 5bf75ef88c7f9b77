"""The body watchdog (chalicelib.embedded.transport.Watchdog): deadlines fire on time in
any order of arrival, cancelled ones never fire."""
import threading
import time

from chalicelib.embedded.transport import Watchdog


def _until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the watchdog did not fire in time"
        time.sleep(0.01)


def test_a_later_deadline_does_not_delay_an_earlier_one_and_cancelled_never_fire():
    dog = Watchdog()
    dog.start()
    fired: dict[str, float] = {}
    lock = threading.Lock()

    def mark(name):
        def callback():
            with lock:
                fired[name] = time.monotonic()
        return callback

    start = time.monotonic()
    dog.watch(30.0, mark("long"))            # the thread now sleeps until +30 s
    dog.watch(0.05, mark("cancelled"))()     # watched and cancelled at once
    dog.watch(0.2, mark("short"))            # after the cancelled head, before the 30 s
    dog.watch(0.3, mark("cancelled-later"))()
    dog.watch(0.5, mark("sentinel"))         # fires after every cancelled deadline is due
    _until(lambda: "sentinel" in fired)
    assert fired["short"] - start < 2.0
    assert fired["short"] <= fired["sentinel"]
    assert set(fired) == {"short", "sentinel"}
