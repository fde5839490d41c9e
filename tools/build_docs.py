"""Render every notebook in nbs/ to a static HTML site, offline: `python tools/build_docs.py` (what `make docs` runs).

Notebooks are stored without outputs (nbdev_clean), so each one is executed first (nbclient, one kernel per notebook, in
the notebook's folder, as nbdev_test runs it), with the widget state kept so ipywidgets render in the page. The pages load
only local files: the Jupyter widgets HTML manager comes from tools/vendor/, nothing is fetched from the internet. nbdev
directives are honoured: `#| hide` and `#| default_exp` cells are left out, `#| eval: false` (and the test flags of
settings.ini) are shown but not run, `#| echo: false` hides a cell's source, `#| output: false` its output.

The site: one page per notebook (index.ipynb becomes index.html), a navigation bar on every page, and the API reference:
api.html lists the modules, api-<module>.html gives one module's public names with signature, docstring and docments
table (nbdev's `show_doc`), and src-<module>.html its highlighted source with an anchor per line, where every [source]
link lands. At the end every page's internal links and anchors are checked, and any script or stylesheet not shipped with
the site is an error.
"""
from __future__ import annotations

import argparse
import configparser
import html
import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "tools" / "vendor"
WIDGETS_JS = "html-manager/embed.js"  # @jupyter-widgets/html-manager's standalone bundle (see tools/vendor/README.md)
DIRECTIVE = re.compile(r"^\s*#\|\s*(.*?)\s*$")

# --- notebooks -----------------------------------------------------------------------------------------------------

def directives(source:str) -> dict:
    "The nbdev directives on a cell's first lines: `#| hide` -> {'hide': ''}, `#| eval: false` -> {'eval': 'false'}."
    out = {}
    for line in source.splitlines():
        m = DIRECTIVE.match(line)
        if not m: break
        text = m.group(1)
        key, val = text.split(":", 1) if ":" in text else (text.split(None, 1) + [""])[:2]
        out[key.strip()] = val.strip()
    return out

def strip_directives(source:str) -> str:
    lines = source.splitlines()
    while lines and DIRECTIVE.match(lines[0]): lines.pop(0)
    return "\n".join(lines)

def test_flags() -> set:
    "The nbdev test flags (settings.ini `tst_flags`): cells carrying one are skipped by nbdev_test, and here."
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "settings.ini")
    return set(cfg["DEFAULT"].get("tst_flags", "").split())

def title_of(nb, fallback:str) -> str:
    for c in nb.cells:
        if c.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", c.source, re.M)
            if m: return m.group(1).strip()
    return fallback

def module_of(nb) -> str|None:
    for c in nb.cells:
        if c.cell_type == "code" and "default_exp" in (d := directives(c.source)): return d["default_exp"]
    return None

def execute(nb, path:Path, timeout:int, flags:set):
    "Run the notebook's code cells in a fresh kernel, in the notebook's folder, skipping `eval: false` and flagged cells."
    from nbclient import NotebookClient
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False, store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.reset_execution_trackers()
    with client.setup_kernel(stderr=subprocess.DEVNULL):  # the kernel's own start-up chatter; cell errors come back as messages
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code": continue
            d = directives(cell.source)
            if d.get("eval") == "false" or flags & set(d): continue
            client.execute_cell(cell, i, store_history=True)
        client.set_widgets_metadata()

def prepare(nb, pages:dict):
    "Drop hidden cells, strip directives, tag cells whose source or output is hidden, point notebook links at pages."
    keep = []
    for c in nb.cells:
        if c.cell_type == "code":
            d = directives(c.source)
            if "hide" in d or "default_exp" in d or "exporti" in d: continue
            tags = set(c.metadata.get("tags", []))
            if d.get("echo") == "false": tags.add("remove_input")
            if d.get("output") == "false": tags.add("remove_output")
            c.metadata["tags"] = sorted(tags)
            c.source = strip_directives(c.source)
        elif c.cell_type == "markdown":
            c.source = re.sub(r"\]\(([\w.-]+)\.ipynb(#[^)]*)?\)", lambda m: f"]({m.group(1)}.html{m.group(2) or ''})"
                              if m.group(1) in pages else m.group(0), c.source)
        keep.append(c)
    nb.cells = keep

# --- pages -----------------------------------------------------------------------------------------------------------

SITE_CSS = """<style>
body{margin:0}
nav.cg-nav{position:fixed;top:0;left:0;bottom:0;width:230px;overflow:auto;background:#f5f6f8;border-right:1px solid #ddd;
  padding:12px 10px;font:14px/1.45 system-ui,sans-serif;box-sizing:border-box}
nav.cg-nav a{display:block;color:#1a4b8c;text-decoration:none;padding:2px 4px;border-radius:3px}
nav.cg-nav a.here{background:#dde6f3;font-weight:600}
nav.cg-nav .site{font-size:18px;font-weight:700;margin-bottom:8px}
nav.cg-nav .grp{margin-top:10px;color:#666;font-size:12px;text-transform:uppercase}
div.cg-page{margin-left:240px}
div.cg-meta{margin:10px 20px 0;font:13px system-ui,sans-serif;color:#555}
</style>"""

def nav_html(pages:dict, here:str) -> str:
    "The navigation bar: the landing page, every notebook page, the API reference."
    links = [f'<a href="{f}"{" class=here" if f == here else ""}>{html.escape(t)}</a>' for f, t in pages.items() if f != "index.html"]
    title = html.escape(pages.get("index.html", "clawgym"))
    top = f'<a class="site{" here" if here == "index.html" else ""}" href="index.html">{title}</a>'
    api = f'<a href="api.html"{" class=here" if here == "api.html" else ""}>API reference</a>'
    return f'<nav class="cg-nav">{top}<div class="grp">Notebooks</div>{"".join(links)}<div class="grp">Reference</div>{api}</nav>'

def wrap(page_html:str, pages:dict, here:str, meta:str="") -> str:
    "Put the navigation bar and the site's styles into a page nbconvert wrote."
    head_end = page_html.index("</head>")
    page_html = page_html[:head_end] + SITE_CSS + page_html[head_end:]
    m = re.search(r"<body[^>]*>", page_html)
    body_end = page_html.rindex("</body>")
    return (page_html[:m.end()] + nav_html(pages, here) + '<div class="cg-page">' + (f'<div class="cg-meta">{meta}</div>' if meta else "")
            + page_html[m.end():body_end] + "</div>" + page_html[body_end:])

def exporter():
    "nbconvert's JupyterLab HTML export through tools/site.html.j2: the widget manager from the site, nothing from a CDN."
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output"}
    c.HTMLExporter.preprocessors = ["nbconvert.preprocessors.TagRemovePreprocessor"]
    c.HTMLExporter.widget_renderer_url = WIDGETS_JS
    return HTMLExporter(config=c, template_name="lab", template_file=str(ROOT / "tools" / "site.html.j2"))

def render(path:Path, pages:dict, execute_it:bool, timeout:int, flags:set) -> tuple[str, str, float]:
    "One notebook to one page: (file name, HTML, seconds). Runs in a worker process."
    import nbformat
    t0 = time.time()
    nb = nbformat.read(path, as_version=4)
    if execute_it: execute(nb, path, timeout, flags)
    for c in nb.cells:  # show_doc outputs: [source] to the site's source pages
        for o in c.get("outputs", []):
            if "text/markdown" in o.get("data", {}): o["data"]["text/markdown"] = local_source_links(o["data"]["text/markdown"])
    mod = module_of(nb)
    prepare(nb, pages)
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": title_of(nb, path.stem)}})
    name = page_name(path)
    meta = f'module <code>clawgym.{mod}</code> · <a href="{api_name("clawgym." + mod)}">API reference</a>' if mod else ""
    return name, wrap(body, pages, name, meta), time.time() - t0

def page_name(path:Path) -> str: return path.stem + ".html"

# --- API reference ---------------------------------------------------------------------------------------------------

def modules() -> list:
    "Every clawgym module, in import order of their names."
    import clawgym
    names = sorted(m.name for m in pkgutil.walk_packages(clawgym.__path__, "clawgym.") if not m.name.split(".")[-1].startswith("_"))
    return [importlib.import_module(n) for n in names]

def api_name(mod:str) -> str: return f"api-{mod}.html"
def src_name(mod:str) -> str: return f"src-{mod}.html"

# show_doc links each symbol to the repository host (settings.ini git_url) and, for modules in subpackages, without a line
# number (nbdev looks the full dotted name up among bare ones: `#LNone`). The site ships its own source pages instead.
SOURCE_LINK = re.compile(r"\[source\]\((?P<url>[^)\s]*?/blob/[^/)]+/(?P<path>clawgym/[\w/]+)\.py)(?:#L\w*)?\)(?:\{[^}]*\})?"
                         r"(?P<rest>\s*#+ (?P<name>[\w.]+))")

def line_of(mod:str, name:str) -> int|None:
    "The line where `mod.name` (a function, class or `Class.method`) is defined, or None when it cannot be found."
    import inspect
    try:
        obj = importlib.import_module(mod)
        for part in name.split("."): obj = getattr(obj, part)
        return inspect.getsourcelines(inspect.unwrap(obj))[1]
    except (ImportError, AttributeError, TypeError, OSError): return None

def local_source_links(md:str) -> str:
    "show_doc markdown with its [source] link pointing at the site's source page and the definition's line."
    def fix(m):
        mod = m.group("path").replace("/", ".").removesuffix(".__init__")
        line = line_of(mod, m.group("name"))
        return f"[source]({src_name(mod)}{f'#L-{line}' if line else ''})" + m.group("rest")
    return SOURCE_LINK.sub(fix, md)

def source_page(mod, pages:dict) -> str:
    "The module's source, highlighted, one anchor per line (`#L-12`), so [source] links land on the definition."
    import inspect
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    fmt = HtmlFormatter(linenos="inline", lineanchors="L", anchorlinenos=True)
    code = highlight(inspect.getsource(mod), PythonLexer(), fmt)
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{mod.__name__} source · clawgym</title>'
            f"<style>{fmt.get_style_defs('.highlight')} .highlight pre{{font-size:13px;line-height:1.4}}"
            " .cg-src{padding:10px 24px} .linenos{color:#999}</style></head>"
            f'<body><div class="cg-src"><h1><a href="{api_name(mod.__name__)}">{mod.__name__}</a> source</h1>{code}</div>'
            "</body></html>")
    return wrap(page, pages, "api.html")

def _symbol(mod, n:str) -> str:
    "One public name of a module, as show_doc renders it (callables) or as a one-line note (constants, re-exports)."
    from nbdev.showdoc import show_doc
    from nbconvert.filters.markdown import markdown2html
    obj = getattr(mod, n)
    anchor = f'id="{mod.__name__}.{n}"'
    if callable(obj) and getattr(obj, "__module__", mod.__name__) == mod.__name__:
        md = local_source_links(show_doc(obj, name=n, title_level=3)._repr_markdown_())
        return f"<div {anchor} class=cg-sym>{markdown2html(md)}</div>"
    where = getattr(obj, "__module__", None)
    if callable(obj) and where and where.startswith("clawgym."):
        desc = f're-exported from <a href="{api_name(where)}#{where}.{n}"><code>{where}</code></a>'
    else: desc = f"<code>{html.escape(type(obj).__name__)}</code>"
    return f"<div {anchor} class=cg-sym><h3><code>{n}</code></h3><p>{desc}</p></div>"

API_CSS = ("<style>body{font:14px/1.5 system-ui,sans-serif} .cg-api{max-width:1000px;padding:10px 24px}"
           " pre{background:#f5f5f5;padding:6px;overflow:auto} table{border-collapse:collapse}"
           " td,th{border:1px solid #ddd;padding:3px 6px;text-align:left} .cg-sym{border-top:1px solid #eee;margin-top:10px}</style>")

def _api_shell(title:str, body:str, pages:dict) -> str:
    return wrap(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)} · clawgym</title>{API_CSS}</head>'
                f'<body><div class="cg-api">{body}</div></body></html>', pages, "api.html")

def module_page(mod, pages:dict, notebooks:dict) -> str:
    "One module's reference page: its docstring, its notebook, its source, and every public name with signature and docments."
    names = list(getattr(mod, "__all__", []))
    nb = notebooks.get(mod.__name__)
    links = [f'<a href="{src_name(mod.__name__)}">source</a>']
    if nb: links.append(f'<a href="{nb}">chapter: {html.escape(pages[nb])}</a>')
    toc = "".join(f'<li><a href="#{mod.__name__}.{n}"><code>{n}</code></a></li>' for n in names)
    body = (f"<h1>{mod.__name__}</h1><p>{html.escape((mod.__doc__ or '').strip())}</p><p>{' · '.join(links)}</p>"
            f"<ul>{toc}</ul>" + "\n".join(_symbol(mod, n) for n in names))
    return _api_shell(mod.__name__, body, pages)

def _summary(mod) -> str: return (mod.__doc__ or "").strip().split("\n")[0]

def api_index(mods:list, pages:dict) -> str:
    "api.html: every module with its one-line summary and the count of its public names, each linking to its page."
    rows = "".join(f'<tr><td><a href="{api_name(m.__name__)}"><code>{m.__name__}</code></a></td>'
                   f"<td>{len(getattr(m, '__all__', []))}</td><td>{html.escape(_summary(m))}</td></tr>" for m in mods)
    body = ("<h1>API reference</h1><p>One page per module: every public name (the module's <code>__all__</code>) with its "
            "signature and parameter table, rendered by nbdev's <code>show_doc</code>, and a link to the definition in the "
            "module's source. The notebooks explain each with examples.</p>"
            f"<table><tr><th>module</th><th>names</th><th>what it is for</th></tr>{rows}</table>")
    return _api_shell("API reference", body, pages)

def write_api(out:Path, pages:dict, notebooks:dict) -> int:
    "api.html, one page per module and one source page per module; returns the count of modules."
    mods = modules()
    (out / "api.html").write_text(api_index(mods, pages), encoding="utf-8")
    for m in mods:
        (out / api_name(m.__name__)).write_text(module_page(m, pages, notebooks), encoding="utf-8")
        (out / src_name(m.__name__)).write_text(source_page(m, pages), encoding="utf-8")
    return len(mods)

# --- checks ----------------------------------------------------------------------------------------------------------

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.external = [], set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if tag == "a" and a.get("name"): self.ids.add(a["name"])
        for k in ("href", "src"):
            v = a.get(k)
            if not v or v == "#": continue
            if v.startswith(("http:", "https:", "//")):
                if tag != "a": self.external.append(f"<{tag} {k}={v}>")  # a link a reader follows is fine; a resource the page loads is not
            elif not urlsplit(v).scheme: self.links.append(v)  # mailto:, data: and the like are not pages

def check_site(out:Path) -> list[str]:
    "Problems with the site: internal links to missing pages or anchors, scripts/styles/images fetched from the internet."
    parsed = {}
    for p in sorted(out.glob("*.html")):
        lp = _Links()
        lp.feed(p.read_text(encoding="utf-8"))
        parsed[p.name] = lp
    problems = []
    for name, lp in parsed.items():
        problems += [f"{name}: loads {x} from the internet" for x in lp.external]
        for link in lp.links:
            u = urlsplit(link)
            target = unquote(u.path) or name
            if not (out / target).exists():
                problems.append(f"{name}: link {link!r} points to a missing file")
                continue
            # a browser looks the fragment up as written, then percent-decoded (nbconvert writes ids of headings with arrows encoded)
            if u.fragment and target in parsed and not {u.fragment, unquote(u.fragment)} & parsed[target].ids:
                problems.append(f"{name}: link {link!r}: {target} has no anchor {u.fragment!r}")
    return problems

# --- main ------------------------------------------------------------------------------------------------------------

def build(out:Path, only:list[str]|None=None, execute_it:bool=True, jobs:int=2, timeout:int=600) -> list[str]:
    "Build the site into `out`; returns the problems found (empty: the site is complete)."
    import nbformat
    nbs = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith("_"))
    if only:
        missing = sorted(set(only) - {p.stem for p in nbs})
        if missing: raise SystemExit(f"no notebook(s) {missing} in nbs/; names are file stems like 00_core or index")
        nbs = [p for p in nbs if p.stem in only]
    if not (VENDOR / WIDGETS_JS).exists():
        raise SystemExit(f"{VENDOR / WIDGETS_JS} is missing; it ships with the repository (restore it with git)")
    nbs.sort(key=lambda p: (p.stem != "index", p.stem))
    pages = {page_name(p): title_of(nbformat.read(p, as_version=4), p.stem) for p in nbs}
    if "index.html" not in pages: pages = {"index.html": "clawgym", **pages}
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(VENDOR / "html-manager", out / "html-manager")
    failures, t0 = [], time.time()
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futs = {pool.submit(render, p, pages, execute_it, timeout, test_flags()): p for p in nbs}
        for f in as_completed(futs):
            try:
                name, page, dt = f.result()
                (out / name).write_text(page, encoding="utf-8")
                print(f"  {name:<28} {dt:6.1f}s", flush=True)
            except Exception as e:  # a failing cell: say which notebook and how to see the whole trace; its page says so too
                msg = str(e).strip().splitlines()
                why = re.sub(r"\x1b\[[0-9;]*m", "", msg[-1] if msg else type(e).__name__)
                failures.append(f"{futs[f].name}: {why} (run: nbdev_test --path nbs/{futs[f].name})")
                name = page_name(futs[f])
                (out / name).write_text(wrap(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(pages[name])}"
                                             "</title></head>"
                                             f"<body><h1>{html.escape(pages[name])}</h1><p>This page did not build: "
                                             f"{html.escape(why)}</p></body></html>",
                                             pages, name), encoding="utf-8")
    if "index.html" not in {page_name(p) for p in nbs}:  # a partial build still gets a landing page: the contents
        items = "".join(f'<li><a href="{f}">{html.escape(t)}</a></li>' for f, t in pages.items() if f != "index.html")
        (out / "index.html").write_text(wrap(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>clawgym</title></head><body>"
                                             f"<h1>clawgym</h1><ul>{items}</ul></body></html>", pages, "index.html"), encoding="utf-8")
    every = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith("_"))
    notebooks = {f"clawgym.{m}": page_name(p) for p in every if (m := module_of(nbformat.read(p, as_version=4)))}
    n = write_api(out, pages, {m: page for m, page in notebooks.items() if page in pages})
    print(f"  {'api.html':<28} (API reference: {n} module pages, {n} source pages)")
    print(f"{len(nbs)} notebook(s) in {time.time() - t0:.0f}s -> {out}")
    return failures + check_site(out)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "_docs"), help="the site folder (replaced)")
    ap.add_argument("--only", nargs="*", help="build only these notebooks (file stems: index 91_ui_widgets ...)")
    ap.add_argument("--no-execute", action="store_true", help="render the notebooks as stored (nbdev_clean leaves no outputs)")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks executed at once")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    a = ap.parse_args(argv)
    problems = build(Path(a.out), a.only, not a.no_execute, a.jobs, a.timeout)
    if problems:
        print(f"\n{len(problems)} problem(s):\n" + "\n".join("  " + p for p in problems), file=sys.stderr)
        sys.exit(1)
    print(f"open {Path(a.out) / 'index.html'}")

if __name__ == "__main__": main()
