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
    if os.environ.get("BPMN_RUNNER_CHROMIUM"):
        return None, f"BPMN_RUNNER_CHROMIUM={os.environ['BPMN_RUNNER_CHROMIUM']} is not an executable"
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


def run_chromium(browser: str, page: Path, profile: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", *args, page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, errors="replace")
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def console_messages(stderr: str) -> list[str]:
    """Console lines (errors, CSP violations, failed loads) that Chromium logs with --enable-logging=stderr."""
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[(:]\d*\)?\]", line)]


# --- the report under test ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def order_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The order example run through the CLI with --report, as a user would."""
    folder = tmp_path_factory.mktemp("report-browser")
    report = folder / "order_instance.html"
    result = CliRunner().invoke(app, ["run", str(ORDER), "--handlers", str(PROCESSES / "order_handlers.py"),
                                      "--data-file", str(PROCESSES / "order_fulfillment.data.json"),
                                      "--json", "--report", str(report)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "completed"
    path = set(payload["path"])
    from lxml import etree
    root = etree.parse(str(ORDER)).getroot()
    flows = {f.get("id") for f in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}sequenceFlow")
             if f.get("sourceRef") in path and f.get("targetRef") in path}
    untouched = {el.get("bpmnElement") for el in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")
                 } - path - {p.get("id") for p in root.iter() if isinstance(p.tag, str)
                             and etree.QName(p).localname in ("participant", "lane")}
    return {"folder": folder, "report": report, "path": path, "flows": flows, "untouched": untouched}


PROBE_HEAD = """<script>
window.__probe = {errors: [], violations: [], console: []};
addEventListener('error', function (e) {
  __probe.errors.push(String(e.message || (e.target && e.target.outerHTML) || e.type)); }, true);
addEventListener('unhandledrejection', function (e) { __probe.errors.push('unhandled rejection: ' + e.reason); });
document.addEventListener('securitypolicyviolation', function (e) {
  __probe.violations.push(e.violatedDirective + ' ' + e.blockedURI); });
['error', 'warn'].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    __probe.console.push(level + ': ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments); }; });
</script>"""

PROBE_TAIL = """<script>
(function () {
  var out = window.__probe;
  function box(r) { return {x: r.x, y: r.y, w: r.width, h: r.height}; }
  var root = document.documentElement;
  out.page = {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth};
  out.svgs = [];
  out.elements = [];
  document.querySelectorAll('svg.bpmn').forEach(function (svg) {
    var canvas = svg.closest('.canvas'), vb = svg.viewBox.baseVal;
    out.svgs.push({rect: box(svg.getBoundingClientRect()), bbox: box(svg.getBBox()),
                   viewBox: {x: vb.x, y: vb.y, w: vb.width, h: vb.height},
                   canvas: {scrollWidth: canvas.scrollWidth, clientWidth: canvas.clientWidth}});
  });
  document.querySelectorAll('svg.bpmn g.element').forEach(function (g) {
    var body = g.querySelector('.body, .edge-line');
    var name = g.querySelector('text.name');
    var style = body ? getComputedStyle(body) : null;
    out.elements.push({id: g.getAttribute('data-element-id'), cls: g.getAttribute('class'),
                       bbox: box(g.getBBox()), rect: box(g.getBoundingClientRect()),
                       stroke: style ? style.stroke : '', fill: style ? style.fill : '',
                       body: body && body.tagName === 'rect' ? box(body.getBBox()) : null,
                       name: name ? box(name.getBBox()) : null, label: name ? name.textContent : ''});
  });
  var pre = document.createElement('pre');
  pre.id = 'bpmn-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""

CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">')


def probe_copy(report: Path, target: Path) -> Path:
    """A copy of the report whose CSP also allows inline scripts, with a probe that writes what it measures."""
    html = report.read_text(encoding="utf-8")
    assert len(CSP_META.findall(html)) == 1, "the report should carry exactly one CSP meta tag"
    relaxed = CSP.rstrip("; ") + "; script-src 'unsafe-inline';"
    html = CSP_META.sub(lambda m: f'<meta http-equiv="Content-Security-Policy" content="{relaxed}">'
                        + PROBE_HEAD, html, count=1)
    assert html.count("</body>") == 1
    target.write_text(html.replace("</body>", PROBE_TAIL + "</body>"), encoding="utf-8")
    return target


def probe(browser: str, run: dict, width: int, height: int) -> dict:
    folder: Path = run["folder"]
    page = probe_copy(run["report"], folder / f"probe_{width}x{height}.html")
    done = run_chromium(browser, page, folder / f"profile-probe-{width}", f"--window-size={width},{height}",
                        "--dump-dom")
    found = re.search(r'<pre id="bpmn-probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"the probe wrote nothing; chromium said: {done.stderr[-1500:]}"
    result = json.loads(html_unescape(found.group(1)))
    result["stderr_console"] = console_messages(done.stderr)
    return result


def html_unescape(text: str) -> str:
    import html
    return html.unescape(text)


# --- PNG without Pillow ---------------------------------------------------------------------------------------

def read_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Width, height, channels and unfiltered rows of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    assert header is not None, "PNG without IHDR"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (0, 2, 4, 6), header
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    assert len(raw) == height * (stride + 1), "truncated image data"
    prev = bytearray(stride)
    rows: list[bytes] = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


# --- the checks -----------------------------------------------------------------------------------------------

def test_unmodified_report_logs_nothing_to_the_console(chromium: str, order_run: dict) -> None:
    """The report as shipped (strict CSP, no script): no CSP violation, failed load or error in Chromium."""
    done = run_chromium(chromium, order_run["report"], order_run["folder"] / "profile-plain",
                        "--window-size=1400,1100", "--dump-dom")
    assert "<svg" in done.stdout and 'class="bpmn"' in done.stdout
    assert console_messages(done.stderr) == []


def test_console_check_sees_csp_violations(chromium: str, order_run: dict) -> None:
    """The control for the test above: the same check finds a blocked inline script and a blocked image."""
    html = order_run["report"].read_text(encoding="utf-8").replace(
        "</body>", '<script>console.error("from a script")</script><img src="https://example.invalid/x.png"></body>')
    page = order_run["folder"] / "control.html"
    page.write_text(html, encoding="utf-8")
    done = run_chromium(chromium, page, order_run["folder"] / "profile-control", "--dump-dom")
    messages = console_messages(done.stderr)
    assert any("Content Security Policy" in m and "inline" in m for m in messages), messages
    assert any("img-src" in m for m in messages), messages


def test_svg_is_drawn_and_traversed_elements_are_painted(chromium: str, order_run: dict) -> None:
    result = probe(chromium, order_run, 1920, 1200)
    assert result["errors"] == [] and result["violations"] == [] and result["console"] == []
    assert result["stderr_console"] == []
    # (b) the diagram has a real rendered size, and all of it fits in a wide window without scrolling
    assert len(result["svgs"]) == 1
    svg = result["svgs"][0]
    assert svg["rect"]["w"] > 1000 and svg["rect"]["h"] > 500, svg
    assert svg["bbox"]["w"] > 1000 and svg["bbox"]["h"] > 500, svg
    assert svg["canvas"]["scrollWidth"] <= svg["canvas"]["clientWidth"], svg
    assert result["page"]["scrollWidth"] <= result["page"]["clientWidth"], result["page"]
    vb = svg["viewBox"]
    by_id = {e["id"]: e for e in result["elements"]}
    for element in result["elements"]:  # nothing is drawn outside the viewBox (so nothing is clipped)
        b = element["bbox"]
        assert b["x"] >= vb["x"] - 0.5 and b["y"] >= vb["y"] - 0.5, element
        assert b["x"] + b["w"] <= vb["x"] + vb["w"] + 0.5 and b["y"] + b["h"] <= vb["y"] + vb["h"] + 0.5, element
        assert element["rect"]["w"] > 0 and element["rect"]["h"] > 0, element
    # (c) every element and flow of the run is marked, painted in the "completed" green; the others are not
    green = "rgb({}, {}, {})".format(*OK_STROKE)
    expected = order_run["path"] | order_run["flows"]
    assert len(order_run["path"]) >= 10 and len(order_run["flows"]) >= 10
    for ident in expected:
        assert ident in by_id, f"{ident} is not drawn"
        assert "traversed" in by_id[ident]["cls"].split(), by_id[ident]
        assert by_id[ident]["stroke"] == green, by_id[ident]
    traversed = {e["id"] for e in result["elements"] if "traversed" in e["cls"].split()}
    assert traversed == expected
    assert order_run["untouched"] and all(by_id[i]["stroke"] != green for i in order_run["untouched"])
    # the analysts' names fit their boxes whole (no `…`), inside the box
    for element in result["elements"]:
        if element["body"] and element["name"] and re.search(r"\b(\w*Task|task|callActivity)\b", element["cls"]):
            assert "…" not in element["label"], element
            n, b = element["name"], element["body"]
            assert b["x"] <= n["x"] and n["x"] + n["w"] <= b["x"] + b["w"], element
            assert b["y"] <= n["y"] and n["y"] + n["h"] <= b["y"] + b["h"], element


def test_narrow_window_scrolls_the_diagram_not_the_page(chromium: str, order_run: dict) -> None:
    result = probe(chromium, order_run, 1280, 900)
    assert result["errors"] == [] and result["violations"] == [] and result["stderr_console"] == []
    svg = result["svgs"][0]
    assert svg["rect"]["w"] > 1000 and svg["canvas"]["scrollWidth"] > svg["canvas"]["clientWidth"]
    assert result["page"]["scrollWidth"] <= result["page"]["clientWidth"], result["page"]


def test_screenshot_shows_the_painted_diagram(chromium: str, order_run: dict) -> None:
    shot = order_run["folder"] / "order_instance.png"
    run_chromium(chromium, order_run["report"], order_run["folder"] / "profile-shot", "--window-size=1920,1200",
                 f"--screenshot={shot}")
    width, height, channels, rows = read_png(shot.read_bytes())
    assert (width, height) == (1920, 1200)
    white = painted = green = 0
    for row in rows:
        for x in range(0, width * channels, channels * 2):  # every other pixel is plenty
            r, g, b = (row[x], row[x + 1], row[x + 2]) if channels >= 3 else (row[x],) * 3
            if r > 245 and g > 245 and b > 245:
                white += 1
            else:
                painted += 1
                if abs(r - OK_STROKE[0]) < 24 and abs(g - OK_STROKE[1]) < 24 and abs(b - OK_STROKE[2]) < 24:
                    green += 1
    total = white + painted
    assert painted > total * 0.02, f"the screenshot is nearly blank: {painted} of {total} pixels painted"
    assert white > total * 0.2, "the screenshot has almost no white (the diagram's background)"
    assert green > 2000, f"only {green} sampled pixels in the traversed green: the run is not painted"
