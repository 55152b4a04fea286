"""The documentation site opens in a real browser with every notebook and module, and every sidebar link resolves."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from spanrl.docs import build_docs, notebooks, modules

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')
    build_docs(out, ROOT / 'nbs', execute=False, log=lambda *_: None)
    return out

def test_every_notebook_and_module_has_a_page(site):
    for nb in notebooks(ROOT / 'nbs'):
        assert (site / ('index.html' if nb.stem == 'index' else f'{nb.stem}.html')).exists(), nb
    for m in modules(ROOT / 'nbs'): assert (site / f'api-{m}.html').exists(), m

def test_pages_open_in_chromium_with_the_sidebar_and_links_resolve(site):
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    assert browser, 'chromium is not installed: `make test` installs it (apt-get install chromium)'
    for page in ('index.html', '09a_loop.html', 'api-spanrl.learner.html'):
        dom = subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', (site / page).as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
        assert "<nav class=\"spanrl\">" in dom, page
        links = re.findall(r'href="([^"#:]+\.html)"', dom)
        assert len(links) > 30 and all((site / h).exists() for h in links), [h for h in links if not (site / h).exists()]
    assert 'How the parts fit' in (site / 'index.html').read_text()
