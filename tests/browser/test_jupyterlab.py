"""The chapters in a real JupyterLab (the one `make lab` starts), driven by Debian's Chromium as a reader would:
Run All finishes without an error; every explorer slider, moved with the arrow keys, changes the image; after
save, kernel shutdown and reopening, every explorer still shows its figure.

``make test`` runs the chapters in ``LAB_CHAPTERS`` (default: a short subset); ``make lab-test`` runs all eleven.
Screenshots and the key-press-to-image latencies go to ``_build/screenshots/``.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ._book import ROOT, SCREENSHOTS

TOKEN = "optim-book-test"
DEFAULT_CHAPTERS = "01,04,06,08,10,11"
CHAPTERS = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
            if os.environ.get("LAB_CHAPTERS", DEFAULT_CHAPTERS) == "all"
            or p.name[:2] in os.environ.get("LAB_CHAPTERS", DEFAULT_CHAPTERS).split(",")]
OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
RUN_ALL_TIMEOUT = 600  # seconds: chapter 02 takes about two minutes on two cores


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with fresh configuration, over a copy of the chapters."""
    assert json.loads(OVERRIDES.read_text()) == json.loads((ROOT / "lab" / "overrides.json").read_text()), (
        f"{OVERRIDES} is not the book's lab/overrides.json: run `make` to install it")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    for path in CHAPTERS:
        shutil.copy(path, root)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    # Render every cell (JupyterLab renders only those near the viewport by default), so all can be found.
    tracker = tmp / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port = _free_port()
    log = open(tmp / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"JupyterLab did not start: {(tmp / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield url, root
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


# JavaScript run in the page, through the app object that --LabApp.expose_app_in_browser exposes.
NOTEBOOK_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  cells.forEach((c, i) => c.model.outputs.toJSON().forEach(o => {
    if (o.output_type === 'error') errors.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
  }));
  return {status: kernel ? kernel.status : 'none', ready: panel.context.isReady,
          running: cells.filter(c => c.promptNode && c.promptNode.textContent.includes('*')).length,
          unrun: cells.filter(c => c.model.sharedModel.source.trim() && c.model.executionCount === null).length,
          errors: errors};
}"""


def _open(page, url, name):
    page.goto(f"{url}/lab/tree/{name}?reset&token={TOKEN}")  # reset: no tab of an earlier chapter restored
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.context"
                           " && window.jupyterapp.shell.currentWidget.context.isReady", timeout=60_000)


def _explorer_images(page):
    """The live explorers: ipywidgets boxes holding selection sliders and an image."""
    return page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output "
                        ".widget-vbox:has(.widget-image):has(.widget-hslider)")


def _wait_idle(page, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(NOTEBOOK_STATE)
        if state and state["status"] == "idle" and not state["running"] and not state["unrun"]:
            return state
        if state and state["errors"]:
            return state
        time.sleep(1)
    pytest.fail(f"Run All did not finish in {timeout} s: {page.evaluate(NOTEBOOK_STATE)}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_in_jupyterlab(browser, lab, path):
    url, _ = lab
    stem = f"jupyterlab-{path.stem}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _open(page, url, path.name)
    page.wait_for_function("() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;"
                           " return s.session && s.session.kernel && s.session.kernel.status === 'idle'; }",
                           timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    state = _wait_idle(page, RUN_ALL_TIMEOUT)
    assert state["errors"] == [], f"{path.name}: error outputs after Run All: {state['errors']}"

    explorers = _explorer_images(page)
    count = explorers.count()
    assert count > 0, f"{path.name}: no live explorer after Run All"
    latencies = []
    for i in range(count):
        explorer = explorers.nth(i)
        explorer.scroll_into_view_if_needed()
        image = explorer.locator(".widget-image").first
        handles = explorer.locator(".noUi-handle")
        assert handles.count() > 0, f"{path.name}: explorer {i} has no sliders"
        for j in range(handles.count()):
            handle = handles.nth(j)
            at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
            before = image.get_attribute("src")
            handle.focus()
            start = time.perf_counter()
            handle.press("ArrowLeft" if at_end else "ArrowRight")
            page.wait_for_function("([img, before]) => img.src !== before", arg=[image.element_handle(), before],
                                   timeout=10_000)
            latencies.append(time.perf_counter() - start)
        explorer.screenshot(path=str(SCREENSHOTS / f"{stem}-explorer-{i + 1}-live.png"))

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    page.close()

    # Reopened: the saved widget state shows each explorer's figure, with or without a running kernel.
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    _open(page, url, path.name)
    # the widget manager restores the saved state once the (new) kernel has connected: seconds on a busy machine
    page.wait_for_function(
        """(count) => { const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
             const widgets = panel.querySelectorAll('.widget-vbox .widget-image').length;
             return widgets >= count || panel.textContent.includes('Error displaying widget'); }""",
        arg=count, timeout=120_000)
    broken = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output:has-text('Error displaying widget')").count()
    reopened = _explorer_images(page)
    shown = []
    for i in range(reopened.count()):
        explorer = reopened.nth(i)
        explorer.scroll_into_view_if_needed()
        image = explorer.locator(".widget-image").first
        shown.append(image.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)"))
        explorer.screenshot(path=str(SCREENSHOTS / f"{stem}-explorer-{i + 1}-reopened.png"))
    page.screenshot(path=str(SCREENSHOTS / f"{stem}-reopened.png"))
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    page.close()
    report = SCREENSHOTS / "jupyterlab-latency.json"
    timings = json.loads(report.read_text()) if report.is_file() else {}
    timings[path.stem] = [round(1000 * t) for t in latencies]
    report.write_text(json.dumps(timings, indent=1, sort_keys=True))
    assert broken == 0, f"{path.name}: an explorer shows an error after save and reopen"
    assert len(shown) == count and all(width > 0 for width in shown), (
        f"{path.name}: reopened explorers show no figure ({shown})")
    assert errors == [], f"{path.name}: page errors {errors}"
