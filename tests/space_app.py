"""Helpers for the Space's end-to-end tests and benchmark: run `python space/app.py` as a real subprocess, drive it
with Debian's Chromium through Playwright, save screenshots.

    with SpaceApp(store, data) as app:          # a free port on 127.0.0.1, offline, no API keys
        requests.get(app.url) ...
        app.kill()                              # SIGKILL of its process group: a crash
        app.start()                             # the same store again

    with chromium_page("home") as (page, shots):      # or chromium_browser() + new_page() for several pages
        page.goto(app.url); shots.take(page, "loaded")   # tests/screenshots/home-01-loaded.png

The app runs in its own process group (`start_new_session`), so `kill`/`stop` reach every child it forks and never
this test process. Its output goes to a log file; a start that does not answer HTTP in time fails with the log's tail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_SCRIPT = REPO_ROOT / "space" / "app.py"
SCREENSHOT_ENV = "DLCODEGEN_SCREENSHOT_DIR"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# Never handed to the app: it must run offline and keyless, whatever the developer's shell holds.
SECRET_ENV_PREFIXES = ("OPENAI_", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACEHUB_API_TOKEN", "ANTHROPIC_")
DROPPED_ENV = {"DLCODEGEN_LEADERBOARD_REPO", "DLCODEGEN_MODEL", "GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME",
               "GRADIO_ROOT_PATH", "GRADIO_SHARE"}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def copy_store(source: str | os.PathLike, destination: str | os.PathLike) -> Path:
    """A private, writable copy of a leaderboard store (without a stale lock file)."""
    destination = Path(destination)
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".lock"))
    return destination


def app_env(store: str | os.PathLike, data: str | os.PathLike, port: int, extra: dict | None = None,
            temp_dir: str | os.PathLike | None = None) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(SECRET_ENV_PREFIXES) and key not in DROPPED_ENV}
    env.update(DLCODEGEN_LEADERBOARD_DIR=str(store), DLCODEGEN_DATA=str(data), GRADIO_SERVER_PORT=str(port),
               GRADIO_SERVER_NAME="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", HF_EVALUATE_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1",
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    if temp_dir:
        env["GRADIO_TEMP_DIR"] = str(temp_dir)  # uploads and generated files, kept out of the shared /tmp/gradio
    env.update(extra or {})
    return env


class SpaceApp:
    """`python space/app.py` on `store` and `data`, on a free local port; a context manager (stopped at exit)."""

    def __init__(self, store: str | os.PathLike, data: str | os.PathLike, *, port: int | None = None,
                 script: str | os.PathLike = APP_SCRIPT, log_path: str | os.PathLike | None = None,
                 extra_env: dict | None = None, startup_timeout: float = 180.0):
        self.store, self.data, self.script = Path(store), Path(data), Path(script)
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.extra_env = extra_env
        if log_path is None:
            log_path = Path(tempfile.mkdtemp(prefix="space-app-")) / "app.log"
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.startup_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"

    def start(self) -> "SpaceApp":
        """Start the app (again, after `kill`/`stop`) and wait until it answers HTTP."""
        if self.running:
            raise RuntimeError("the app is already running")
        self.starts += 1
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start {self.starts} on port {self.port} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen([sys.executable, str(self.script)], cwd=str(REPO_ROOT),
                                         env=app_env(self.store, self.data, self.port, self.extra_env,
                                                     self.log_path.parent / "gradio-tmp"),
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        try:
            self.wait_ready(self.startup_timeout)
        except BaseException:
            self.kill()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.script.name} exited with {self.proc.returncode} before serving; "
                                   f"log tail:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{self.script.name} did not answer {self.url} within {timeout:.0f} s; "
                           f"log tail:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the app's main process has used so far, every thread counted (Linux)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, timeout: float = 180.0, quiet: float = 2.0, busy_share: float = 0.1) -> float:
        """Wait until the app has used under `busy_share` of a CPU for `quiet` seconds (its background start-up work,
        such as preparing the scorer, is done); seconds waited. Times out silently: idleness is only an optimisation."""
        started = time.monotonic()
        last, quiet_since = self.cpu_seconds(), time.monotonic()
        while time.monotonic() - started < timeout and self.running:
            time.sleep(0.5)
            used = self.cpu_seconds()
            if used - last > 0.5 * busy_share:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                break
            last = used
        return time.monotonic() - started

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash would: no handler, no cleanup."""
        self._signal_group(signal.SIGKILL, grace=15.0)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the process group; SIGKILL whatever is left after `grace` seconds."""
        if not self._signal_group(signal.SIGTERM, grace):
            self._signal_group(signal.SIGKILL, grace)

    def _signal_group(self, signum: int, grace: float) -> bool:
        """Send `signum` to the group; True when the app's main process ended within `grace`."""
        if self.proc is None:
            return True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)  # the group id is the child's pid (start_new_session)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            return False
        if signum == signal.SIGKILL or self.proc.returncode is not None:
            # children of the group that outlived the leader: reap them too (only this group, by its id)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        return True

    def __enter__(self) -> "SpaceApp":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------- browser


def screenshot_dir() -> Path:
    folder = Path(os.environ.get(SCREENSHOT_ENV) or REPO_ROOT / "tests" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Screenshots:
    """Numbered full-page screenshots `<prefix>-NN-<name>.png` in `screenshot_dir()`."""

    def __init__(self, prefix: str, folder: str | os.PathLike | None = None):
        self.prefix = re.sub(r"[^\w.-]+", "_", prefix)
        self.folder = Path(folder) if folder else screenshot_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.paths: list[Path] = []

    def take(self, page, name: str, full_page: bool = True) -> Path:
        self.count += 1
        safe = re.sub(r"[^\w.-]+", "_", name)
        path = self.folder / f"{self.prefix}-{self.count:02d}-{safe}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.paths.append(path)
        return path


def chromium_executable() -> str | None:
    found = os.environ.get("DLCODEGEN_CHROMIUM") or shutil.which("chromium")
    return found or next((path for path in CHROMIUM_CANDIDATES if Path(path).exists()), None)


@contextlib.contextmanager
def chromium_browser(headless: bool = True) -> Iterator[object]:
    """Debian's Chromium through Playwright (whose own browser download is not available here)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    if executable is None:
        raise RuntimeError("Chromium not found: apt-get install chromium (or set DLCODEGEN_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=headless,
                                             args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def new_page(browser, width: int = 1400, height: int = 1000, timeout_ms: float = 30_000) -> Iterator[object]:
    """A fresh page (own context: no shared storage); console errors are collected in `page.console_errors`,
    uncaught exceptions in `page.page_errors`."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.console_errors, page.page_errors = [], []  # console.error lines; uncaught exceptions
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()


@contextlib.contextmanager
def chromium_page(prefix: str = "page", **page_options) -> Iterator[tuple[object, Screenshots]]:
    """One browser, one page and a `Screenshots` for it: `(page, shots)`."""
    with chromium_browser() as browser, new_page(browser, **page_options) as page:
        yield page, Screenshots(prefix)


# ---------------------------------------------------------------------------------------------- submissions

DLCODEEVAL_IDS = tuple(range(46))
_MARKDOWN_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: any ASCII punctuation


def short_codes(variant: int, ids=DLCODEEVAL_IDS) -> dict[int, str]:
    """A few lines of Keras per item, distinct per `variant`: cheap to score (46 items in about a second)."""
    return {item_id: (f"import tensorflow as tf\n"
                      f"from tensorflow import keras\n"
                      f"model = keras.Sequential([keras.layers.Dense({8 + variant}, activation='relu'),\n"
                      f"                          keras.layers.Dense({item_id % 7 + 1})])\n"
                      f"model.compile(optimizer='adam', loss='mse', metrics=['mae'])\n"
                      f"model.fit(x_train, y_train, epochs={item_id % 5 + 1}, batch_size={16 * (variant % 4 + 1)})\n")
            for item_id in ids}


def submission_bytes(codes: dict[int, str]) -> bytes:
    """The submission file: one `{"id", "code"}` JSON line per item, in id order."""
    import json

    return "".join(json.dumps({"id": item_id, "code": codes[item_id]}) + "\n" for item_id in sorted(codes)).encode()


def unescape_markdown(text: str) -> str:
    """Undo `dlcodegen.leaderboard.submission.escape_markdown` (what the API returns is the escaped Markdown)."""
    import html

    return html.unescape(_MARKDOWN_ESCAPED.sub(r"\1", text))
