"""A person completes the order example's user task in headless Chromium against a real `serve` (uvicorn on a free
port, SQLite store): log in, open the group tasks, claim "Review large order", fill its form, submit, and watch the
instance page move on to "Order shipped" without reloading it, with no script error or CSP violation.

Chromium is driven over the DevTools protocol (a websocket; `websockets` is in the test extra). Chromium itself
comes as in tests/test_report_browser.py: installed from Debian when missing, else the test skips, unless
BPMN_RUNNER_REQUIRE_BROWSER=1 makes that a failure."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from .serve_helpers import free_port
from .test_report_browser import chromium  # noqa: F401  (the session fixture that finds or installs Chromium)

websockets_sync = pytest.importorskip("websockets.sync.client", reason="the browser test needs websockets "
                                      "(pip install -e '.[test]')")
uvicorn = pytest.importorskip("uvicorn")

from bpmn_runner.server.app import create_app  # noqa: E402

from .pages import order_context, start_order  # noqa: E402

pytestmark = pytest.mark.browser


class Served:
    """uvicorn serving the app in a thread, and a worker thread firing timers and running jobs, as `serve` does."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.port = free_port()
        config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.server.run, daemon=True),
                        threading.Thread(target=self._work, daemon=True)]

    def _work(self) -> None:
        with self.ctx.runtime() as runtime:
            while not self.stop.is_set():
                runtime.work_until_idle()
                self.stop.wait(0.2)

    def __enter__(self) -> "Served":
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.server.should_exit = True
        for thread in self.threads:
            thread.join(timeout=10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class Browser:
    """Headless Chromium and one page, spoken to with the DevTools protocol."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert self.process.poll() is None, f"chromium exited {self.process.returncode}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        self.stack = contextlib.ExitStack()
        self.socket = self.stack.enter_context(
            websockets_sync.connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20))
        self.ids = itertools.count(1)
        self.problems: list[str] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == ident:
                assert "error" not in message, f"{method}: {message['error']}"
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.problems.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.problems.append(params["entry"].get("text", ""))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.problems.append(json.dumps(params.get("args", []))[:500])

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, f"{expression}: {result['exceptionDetails']}"
        return result.get("result", {}).get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && location.href === " + json.dumps(url))

    def wait(self, condition: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.js(f"(function () {{ try {{ return !!({condition}); }} "
                                f"catch (e) {{ return false; }} }})()")
            except AssertionError:
                value = False  # the page is between two documents
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {condition}; page: {self.text()[:1500]}"
            time.sleep(0.1)

    def click(self, selector: str) -> None:
        self.wait(f"document.querySelector({json.dumps(selector)})")
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def type(self, selector: str, text: str) -> None:
        self.wait(f"document.querySelector({json.dumps(selector)})")
        self.js(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(text)}")

    def text(self, selector: str = "body") -> str:
        return self.js(f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''") or ""

    def close(self) -> None:
        try:
            self.stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    profile = Path(tempfile.mkdtemp(prefix="bpmn-runner-cdp-"))
    opened = Browser(chromium, profile)
    try:
        yield opened
    finally:
        opened.close()
        shutil.rmtree(profile, ignore_errors=True)


def test_a_person_completes_the_review_in_the_browser_and_sees_the_order_ship(browser: Browser,
                                                                              tmp_path: Path) -> None:
    ctx = order_context(f"sqlite:///{tmp_path / 'serve.db'}")
    iid = start_order(ctx)                                    # an order of 1450: it waits for the sales team
    with Served(ctx) as served:
        browser.open(served.url("/tasks"))
        browser.wait("location.pathname === '/tasks'")
        assert "not logged in" in browser.text()
        browser.click("a[href^='/login']")
        browser.wait("location.pathname === '/login'")
        browser.type("#login-user", "mary")
        browser.type("#login-groups", "sales")
        browser.click("#login")
        browser.wait("location.pathname === '/tasks' && document.querySelector('nav .who').innerText.includes('mary')")

        browser.open(served.url("/tasks?view=group"))
        assert "Review large order" in browser.text("#tasks")
        browser.click("a.open-task")
        browser.wait("location.pathname.startsWith('/tasks/') && document.querySelector('#claim')")
        assert browser.js("document.querySelector('#complete').disabled") is True
        browser.click("#claim")
        browser.wait("document.querySelector('#unclaim') && !document.querySelector('#complete').disabled")
        assert browser.text("#assignee") == "mary"

        browser.click("#field-approved")
        browser.type("#field-comment", "regular customer <b>")
        browser.click("#complete")
        browser.wait(f"location.pathname === '/instances/{iid}' && document.querySelector('#instance-status')")
        assert browser.js("document.querySelector('[data-variable=comment] code').innerText") \
            == '"regular customer <b>"'                       # shown as text, not markup
        browser.js("window.__notReloaded = true")
        # the worker fires the pick-up timer a second later and notifies the customer: the page follows by itself
        browser.wait("document.querySelector('#instance-status').innerText === 'completed'", timeout=30)
        assert browser.js("window.__notReloaded === true"), "the page reloaded instead of updating in place"
        shipped = "document.querySelector('g[data-element-id=Event_OrderShipped]').getAttribute('class')"
        assert "traversed" in browser.js(shipped)
        assert "traversed" in browser.js(shipped.replace("Event_OrderShipped", "Activity_ReviewOrder"))
        assert "Nothing: the instance is not waiting" in browser.text("#instance")

        browser.open(served.url("/tasks?view=all"))
        assert "No open tasks here" in browser.text("#tasks")
    assert browser.problems == []
    with ctx.runtime() as runtime:
        shown = runtime.show(iid)
    assert shown["status"] == "completed"
    assert shown["data"]["approved"] is True and shown["data"]["orderStatus"] == "shipped"
