"""The EM explorer in a real browser: JupyterLab, Chromium, one click, three checks.

    python tools/browser_test.py        # make test-browser (which first installs Chromium and Playwright)

1. Starts JupyterLab from this environment on a free loopback port with a random
   token, its root a temporary copy of notebooks/04_em_algorithm.ipynb (so the
   repository's notebook is never autosaved), announcements and update checks off.
2. Drives Debian's Chromium (/usr/bin/chromium, headless) with Playwright: opens
   the notebook, runs every cell (Run > Run All Cells) and waits for the
   ``emlib.course.widgets.EMExplorer`` to appear.
3. Checks that no output says "Error displaying widget" and no cell failed, then
   presses the explorer's "half-step ▶" button twice and checks that the
   iteration and the log-likelihood it shows change (and that the
   log-likelihood does not decrease: EM never goes down), and that the figure
   is redrawn (a new image, different pixels).
4. Opens the same notebook as a RISE slideshow (/rise/...) and checks that
   reveal.js laid out its slides.

Every request that is not for 127.0.0.1 is refused and reported. Screenshots go to
``$ARTIFACTS`` (or build/browser-test/). The server and the browser are shut down
in every case; the exit status is 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/04_em_algorithm.ipynb"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
FORWARD = "half-step ▶"
STATUS = re.compile(r"t = (?P<t>\d+) · after (?P<half>[EM])-step.*?ln p\(X \| θ\^\((?P<which>\d+)\)\) = "
                    r"(?P<loglik>-?[\d.]+)")
SERVER_START_S = 90
RUN_ALL_S = 240
STEP_S = 30

LAB_CONFIG = """\
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
"""
# No autosave, no "receive news?" question, no update checks: a quiet, reproducible lab.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        '{"fetchNews": "false", "checkForUpdates": false, "doNotDisturbMode": true}',
}


class Failure(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("ARTIFACTS") or ROOT / "build" / "browser-test")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_lab(workdir: Path, port: int, token: str, log) -> subprocess.Popen:
    """JupyterLab on 127.0.0.1:port, in its own process group, with private config and settings."""
    config, settings = workdir / "config", workdir / "settings"
    config.mkdir()
    (config / "jupyter_lab_config.py").write_text(LAB_CONFIG)
    for name, text in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"), JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
               MPLBACKEND="agg")
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={workdir / 'root'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_server(proc: subprocess.Popen, base: str, token: str) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"JupyterLab exited with status {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise Failure(f"JupyterLab did not answer on {base} within {SERVER_START_S} s")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it shuts its kernels down), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def read_status(output) -> dict:
    text = output.locator(".widget-html-content").first.inner_text()
    match = STATUS.search(text)
    if not match:
        raise Failure(f"the explorer's status line does not read as expected: {text!r}")
    return {"t": int(match["t"]), "half": match["half"], "which": int(match["which"]),
            "loglik": float(match["loglik"]), "text": text}


def accept_dialog(page, wait_ms: int = 1500) -> None:
    """Accept a dialog JupyterLab may show (e.g. which kernel to start), if one appears."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.first.wait_for(timeout=wait_ms)
    except Exception:
        return
    page.locator(".jp-Dialog .jp-mod-accept").first.click()


def run_checks(page, base: str, token: str, shots: Path, report) -> None:
    """Open the notebook, run it, step the explorer, open the slideshow; raise Failure on the first problem."""
    open_notebook(page, base, token, shots, report)
    forward = run_all_cells(page, report)
    step_explorer(page, forward, shots, report)
    check_slideshow(page, base, token, shots, report)


def open_notebook(page, base: str, token: str, shots: Path, report) -> None:
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", wait_until="domcontentloaded")
    page.locator(".jp-NotebookPanel .jp-Cell").nth(1).wait_for(timeout=SERVER_START_S * 1000)
    kernel_idle = page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"Python 3.*\|\s*Idle"))
    kernel_idle.first.wait_for(timeout=120_000)
    accept_dialog(page)
    page.screenshot(path=shots / "1-notebook-open.png")
    report("notebook open, kernel idle")


def run_all_cells(page, report):
    """Run All Cells and wait until every cell ran; returns the explorer's forward button."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    accept_dialog(page)
    forward = page.get_by_role("button", name=FORWARD)
    # JupyterLab renders a cell's error as stderr text; an exception's name tells it from a warning
    failed = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
                          has_text=re.compile(r"\w(Error|Exception)(:|\s+Traceback)"))
    forward.or_(failed).first.wait_for(timeout=RUN_ALL_S * 1000)      # whichever comes first
    page.wait_for_function(
        "() => !Array.from(document.querySelectorAll('.jp-InputArea-prompt')).some(p => p.textContent.includes('*'))",
        timeout=RUN_ALL_S * 1000)
    report("all cells ran; the explorer's controls are on the page")
    errors = page.get_by_text("Error displaying widget")
    if errors.count():
        raise Failure(f"{errors.count()} output(s) say 'Error displaying widget'")
    if failed.count():
        raise Failure(f"{failed.count()} cell(s) raised: {failed.first.inner_text()[:500]}")
    return forward


def step_explorer(page, forward, shots: Path, report) -> None:
    """Two half-steps must move t by one, change the log-likelihood (upwards) and redraw the figure."""
    output = page.locator(".jp-OutputArea-output", has=forward.first).first
    output.scroll_into_view_if_needed()
    image = output.locator("img.widget-image").first
    image.wait_for(timeout=STEP_S * 1000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                           timeout=STEP_S * 1000)
    before = read_status(output)
    before_src, before_png = image.get_attribute("src"), image.screenshot()
    output.screenshot(path=shots / "2-explorer-before.png")
    report(f"before: {before['text']}")

    for _ in range(2):      # after E-step 0 -> after M-step 0 -> after E-step 1
        previous = output.locator(".widget-html-content").first.inner_text()
        forward.first.click()
        page.wait_for_function("([el, old]) => el.innerText !== old",
                               arg=[output.locator(".widget-html-content").first.element_handle(), previous],
                               timeout=STEP_S * 1000)
    page.wait_for_function("([img, old]) => img.src !== old && img.complete && img.naturalWidth > 0",
                           arg=[image.element_handle(), before_src], timeout=STEP_S * 1000)
    after = read_status(output)
    after_png = image.screenshot()
    output.screenshot(path=shots / "3-explorer-after-two-half-steps.png")
    report(f"after:  {after['text']}")
    check_step(before, after, before_png, after_png)
    if page.get_by_text("Error displaying widget").count():
        raise Failure("'Error displaying widget' after stepping")
    page.screenshot(path=shots / "4-notebook-after-steps.png")
    report("iteration, log-likelihood and figure all changed")


def check_step(before: dict, after: dict, before_png: bytes, after_png: bytes) -> None:
    if not (after["t"] == before["t"] + 1 and after["half"] == before["half"] == "E"):
        raise Failure(f"two half-steps should go from t = {before['t']} to t = {before['t'] + 1}; "
                      f"the explorer shows {after['text']!r}")
    if after["loglik"] == before["loglik"]:
        raise Failure(f"the log-likelihood shown did not change: {before['loglik']}")
    if after["loglik"] < before["loglik"] - 1e-3:
        raise Failure(f"the log-likelihood went down from {before['loglik']} to {after['loglik']}")
    if after_png == before_png:
        raise Failure("the figure was not redrawn: the same pixels before and after the steps")


def check_slideshow(page, base: str, token: str, shots: Path, report) -> None:
    page.goto(f"{base}/rise/{NOTEBOOK}?token={token}", wait_until="domcontentloaded")
    page.locator(".reveal .slides section").first.wait_for(timeout=60_000)
    sections = page.locator(".reveal .slides section").count()
    if sections < 2:
        raise Failure(f"the RISE slideshow has {sections} slide(s)")
    page.wait_for_timeout(1500)
    page.screenshot(path=shots / "5-rise-slideshow.png")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(800)
    page.screenshot(path=shots / "6-rise-next-slide.png")
    report(f"RISE slideshow: {sections} sections")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=ROOT / NOTEBOOK,
                        help=f"the notebook to open, a copy of it (default: {NOTEBOOK})")
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print(missing)
        return 2
    shots = artifacts_dir()
    started = time.monotonic()

    def report(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="em-browser-test-"))
    (workdir / "root" / "notebooks").mkdir(parents=True)
    shutil.copy2(args.notebook, workdir / "root" / NOTEBOOK)
    port, token = free_port(), secrets.token_hex(24)
    base = f"http://127.0.0.1:{port}"
    blocked: list[str] = []
    status = 1
    with open(shots / "jupyterlab.log", "w") as log:
        proc = start_lab(workdir, port, token, log)
        try:
            wait_for_server(proc, base, token)
            report(f"JupyterLab answers on {base}")
            status = run_in_browser(base, token, shots, report, blocked)
        finally:
            stop(proc)
            shutil.rmtree(workdir, ignore_errors=True)
    if blocked:
        print(f"refused {len(blocked)} request(s) that were not for 127.0.0.1, e.g. {sorted(set(blocked))[:5]}")
    print(f"screenshots and the server log in {shots}")
    print("test-browser: " + ("1 passed, 0 failed" if status == 0 else "0 passed, 1 failed"))
    return status


def missing_tools() -> str:
    """What is missing to run the test (Playwright for Python, Debian's Chromium), or ''."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing: pip install playwright (its browsers are not needed)"
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver"
    return ""


def run_in_browser(base: str, token: str, shots: Path, report, blocked: list) -> int:
    """The checks in headless Chromium, every request off loopback refused (and listed in ``blocked``); 0 if passed."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    def only_loopback(route):
        host = urlsplit(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.route("**/*", only_loopback)
                page = context.new_page()
                page.set_default_timeout(60_000)
                try:
                    run_checks(page, base, token, shots, report)
                    return 0
                except Exception:
                    page.screenshot(path=shots / "failure.png")
                    raise
            finally:
                browser.close()
    except Failure as exc:
        print(f"FAILED: {exc}")
    except (PlaywrightError, OSError) as exc:
        print(f"FAILED: {type(exc).__name__}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
