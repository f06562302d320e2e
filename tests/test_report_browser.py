"""The instance report in a real headless Chromium: no console errors, a drawn SVG, traversed elements painted.

Chromium comes from Debian (`apt-get install chromium`) when it is missing; the session fixture installs it
once. Without root or apt the tests skip, unless BPMN_RUNNER_REQUIRE_BROWSER=1 (CI) makes that a failure.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.report import CSP

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
ORDER = PROCESSES / "order_fulfillment.bpmn"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_LOCK = Path(tempfile.gettempdir()) / "bpmn-runner-chromium-install.lock"
_install_once = threading.Lock()
OK_STROKE = (0x1A, 0x7F, 0x37)   # --ok in templates/report_style.css.j2: the stroke of a traversed element


# --- getting a browser --------------------------------------------------------------------------------------

def find_chromium() -> str | None:
    explicit = os.environ.get("BPMN_RUNNER_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else shutil.which(explicit)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def install_chromium() -> tuple[str | None, str]:
    """Chromium's path, installing Debian's package first when needed; else None and the reason why."""
    found = find_chromium()
    if found:
        return found, ""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "chromium is not installed and installing it needs root (apt-get install chromium)"
    if not shutil.which("apt-get"):
        return None, "chromium is not installed and there is no apt-get to install it with"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with _install_once, open(INSTALL_LOCK, "w") as lock:  # one install per process, and across processes
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = find_chromium()
        if found:  # another session installed it while we waited
            return found, ""
        for command, timeout in ((["apt-get", "update"], 600),
                                 (["apt-get", "install", "-y", "chromium"], 1200)):
            try:
                done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return None, f"`{' '.join(command)}` did not finish: {exc}"
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                return None, f"`{' '.join(command)}` exited {done.returncode}: {' | '.join(tail)}"
    found = find_chromium()
    return (found, "") if found else (None, "apt-get installed chromium but no chromium binary is on PATH")


@pytest.fixture(scope="session")
def chromium() -> str:
    path, reason = install_chromium()
    if path is None:
        if os.environ.get("BPMN_RUNNER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"BPMN_RUNNER_REQUIRE_BROWSER=1 but no browser: {reason}")
        pytest.skip(reason)
    return path
