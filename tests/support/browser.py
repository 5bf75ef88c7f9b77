"""A real headless Chromium (Debian's `chromium` package) for the console tests.

Each call runs one fresh browser process with its own profile folder: `dom(url)` gives
the document after its scripts ran (`--dump-dom`; `virtual_ms` fast-forwards timers),
`screenshot(url, path)` writes a PNG. Missing binary: the tests are skipped with the
reason (CI installs it: .ci/run).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def chromium_binary() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


class Browser:
    def __init__(self, binary: str):
        self.binary = binary

    def _run(self, args: list[str], url: str, timeout: float) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            result = subprocess.run(
                [self.binary, *FLAGS, f"--user-data-dir={profile}", *args, url],
                capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"chromium exited {result.returncode}: "
                               f"{result.stderr.decode(errors='replace')[-2000:]}")
        return result

    def dom(self, url: str, virtual_ms: int | None = None, timeout: float = 60) -> str:
        args = ["--dump-dom"]
        if virtual_ms:
            args.append(f"--virtual-time-budget={virtual_ms}")
        return self._run(args, url, timeout).stdout.decode("utf-8", errors="replace")

    def screenshot(self, url: str, path: Path, width: int = 1280, height: int = 1400,
                   timeout: float = 60) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run([f"--screenshot={path}", f"--window-size={width},{height}"], url, timeout)
        assert path.exists() and path.stat().st_size > 1000, f"no screenshot at {path}"
        return path


@pytest.fixture(scope="session")
def browser() -> Browser:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run "
                    "installs it): the console's browser tests need it")
    return Browser(binary)
