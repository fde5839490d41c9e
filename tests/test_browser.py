"""Real-browser tests: JupyterLab in headless Chromium runs the tour and the widgets notebook and the widgets render with real
content; the static documentation site renders offline and its internal links resolve. Screenshots go to
tests/_out/screenshots/. Skipped (with the reason) only where Chromium is not installed: `.ci/sysdeps.sh` installs
Debian's `chromium` when run as root."""
import functools
import re
import http.server
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "_out" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium is not installed at {CHROMIUM}: run `bash .ci/sysdeps.sh` "
                                "as root (apt-get install chromium) to enable the browser tests")

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()

# --- JupyterLab ------------------------------------------------------------------------------------------------------

LAB_SETTINGS = {  # every cell in the DOM (no windowing), so outputs far down the notebook can be read; no news fetching
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "JupyterLab on 127.0.0.1 serving copies of the notebooks (so autosave never writes outputs into nbs/)."
    root = tmp_path_factory.mktemp("lab")
    for name in ("index.ipynb", "91_ui_widgets.ipynb"):
        nb = json.loads((ROOT / "nbs" / name).read_text())
        # nbdev_clean strips the kernel spec; without one JupyterLab asks which kernel to start
        nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        (root / name).write_text(json.dumps(nb))
    settings = root / ".settings"
    for rel, v in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(v))
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.disable_check_xsrf=True",
           "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={root / '.ws'}"]
    log = open(root / "lab.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, env={**os.environ, "JUPYTER_NO_CONFIG": "1"})
    base = f"http://127.0.0.1:{port}"
    status, deadline = f"{base}/api/status?token={token}", time.time() + 60
    try:
        while time.time() < deadline and proc.poll() is None and not _up(status): time.sleep(0.5)
        if proc.poll() is not None or not _up(status):
            pytest.fail(f"JupyterLab did not start; its log:\n{(root / 'lab.log').read_text()[-3000:]}")
        yield base, token
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

def _up(url) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
        return True
    except OSError: return False

STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  for (const c of cells) for (let i = 0; i < c.model.outputs.length; i++) {
    const o = c.model.outputs.get(i).toJSON();
    if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {total: cells.length, done: cells.filter(c => c.model.executionCount !== null && !c.promptNode.textContent.includes('*')).length,
          status: kernel ? kernel.status : 'none', errors};
}"""

def run_notebook(page, base:str, token:str, name:str, timeout:float=150) -> dict:
    "Open `name` in JupyterLab, run every cell, wait until all ran; fails with the first error a cell raised."
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    page.evaluate("async () => { const p = window.jupyterapp.shell.currentWidget; await p.context.ready; await p.sessionContext.ready; }")
    page.wait_for_function("() => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel; return k && k.status "
                           "=== 'idle'; }", timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    t0, state = time.time(), {}
    while time.time() - t0 < timeout:
        state = page.evaluate(STATE_JS)
        if state["errors"]: pytest.fail(f"{name}: a cell raised {state['errors'][0]}")
        if state["done"] == state["total"] and state["status"] == "idle": return state
        time.sleep(1)
    pytest.fail(f"{name}: {state.get('done')} of {state.get('total')} cells ran in {timeout}s")

def body_text(page) -> str: return page.evaluate("() => document.body.innerText")

# ipywidgets writes spaces as no-break spaces
OPTIONS_JS = "() => [...document.querySelectorAll('.widget-select select option')].map(o => o.textContent.replace(/\\u00a0/g, ' '))"

def test_widgets_notebook_in_jupyterlab(browser, lab):
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    run_notebook(page, base, token, "91_ui_widgets.ipynb")
    options = page.evaluate(OPTIONS_JS)
    assert any("october_totals.json" in o and "[+]" in o for o in options), options[:20]  # the file tree, with the added file marked
    assert any("AGENTS.md" in o for o in options)
    text = body_text(page)
    assert "call exec" in text  # the trajectory viewer's step 3 (the slider was moved there by the notebook)
    assert "score 1 (code 1, rubric -)" in text  # its scores
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = page.locator(".jp-OutputArea-child:has(.widget-select)")
    out.first.screenshot(path=str(SHOTS / "workspace_inspector.png"))
    viewer = page.locator(".jp-OutputArea-child:has(.widget-slider)").first
    viewer.screenshot(path=str(SHOTS / "trajectory_viewer.png"))
    # the widget is live: the next button steps the viewer (through the kernel) to the final answer
    viewer.get_by_role("button", name="next ▶").click()
    page.wait_for_function("() => document.body.innerText.includes('step 4 of 4')", timeout=20_000)
    page.close()

def test_tour_in_jupyterlab(browser, lab):
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    run_notebook(page, base, token, "index.ipynb", timeout=170)
    options = page.evaluate(OPTIONS_JS)
    assert any("AGENTS.md" in o for o in options) and any(" · d" in o for o in options), options[:10]  # a workspace tree, the task list
    viewer = page.locator(".jp-OutputArea-child:has(.widget-slider)").first
    viewer.get_by_role("button", name="next ▶").click()  # step 1: the first tool call of the reference
    page.wait_for_function("() => document.body.innerText.includes('step 1 of')", timeout=20_000)
    text = body_text(page)
    assert "call read" in text or "call exec" in text or "call write" in text or "call edit" in text
    assert "score 1 (code 1" in text and "Benchmark report" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(path=str(SHOTS / "tour_trajectory_viewer.png"))
    page.locator(".jp-Notebook").first.screenshot(path=str(SHOTS / "tour.png"))
    page.close()

# --- the documentation site --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "A docs site built by tools/build_docs.py (two notebooks, executed, and the API reference), served on 127.0.0.1."
    out = tmp_path_factory.mktemp("site") / "_docs"
    r = subprocess.run([sys.executable, str(ROOT / "tools/build_docs.py"), "--only", "00_core", "91_ui_widgets", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"build_docs failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield out, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()

def test_docs_site(browser, site):
    out, base = site
    pages = sorted(p.name for p in out.glob("*.html"))
    assert {"index.html", "00_core.html", "91_ui_widgets.html", "api.html"} <= set(pages), pages
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, foreign = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((base, "data:", "blob:", "about:")) else None)
    links, ids = set(), {}
    for name in pages:
        resp = page.goto(f"{base}/{name}", wait_until="load")
        assert resp.ok, name
        assert page.locator("nav.cg-nav a[href='api.html']").count() == 1, f"{name} has no navigation"
        ids[name] = set(page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)"))
        links |= {(name, h) for h in page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")}
        if name == "91_ui_widgets.html":  # the embedded widget state renders through the shipped widget manager
            page.wait_for_selector(".widget-select select option", timeout=20_000)
            opts = page.evaluate(OPTIONS_JS)
            assert any("october_totals.json" in o for o in opts), opts[:10]
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator(".jp-OutputArea-output:has(.widget-select)").first.screenshot(path=str(SHOTS / "docs_widgets_page.png"))
        if name == "api.html":  # the index: one row per module, each linking to its page
            assert page.locator("a[href='api-clawgym.env.sandbox.html']").count() == 1
        if name == "api-clawgym.env.sandbox.html":  # a module page: show_doc with its docments table, and a source link to the line
            assert page.locator("[id='clawgym.env.sandbox.Sandbox'] table td", has_text="backend").count() >= 1
            src = page.locator("[id='clawgym.env.sandbox.Sandbox'] a", has_text="source").first.get_attribute("href")
            assert re.fullmatch(r"src-clawgym\.env\.sandbox\.html#L-\d+", src), src
    assert not errors, errors[:3]
    assert not foreign, f"pages fetched from outside the site: {foreign[:5]}"
    checked = 0
    for name, href in sorted(links):
        if href.startswith(("http:", "https:", "mailto:")): continue
        path, _, frag = href.partition("#")
        target = path or name
        assert (out / target).exists(), f"{name}: broken link {href!r}"
        assert not frag or {frag, urllib.parse.unquote(frag)} & ids[target], f"{name}: {href!r}: {target} has no such anchor"
        checked += 1
    assert checked > 20
    page.close()
