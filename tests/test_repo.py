"The notebooks are the source: spanrl/ and README.md must be what they export, and notebooks must be clean."
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

@pytest.fixture(scope='module')
def scratch(tmp_path_factory, root):
    "A copy of settings.ini and nbs/ in which the nbdev commands may rewrite files."
    d = tmp_path_factory.mktemp('repo')
    shutil.copy(root / 'settings.ini', d)
    shutil.copytree(root / 'nbs', d / 'nbs')
    return d

def _tree(d: Path):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob('*.py')) if '__pycache__' not in p.parts}

def test_package_is_in_sync_with_notebooks(scratch, root):
    subprocess.run([str(BIN / 'nbdev_export')], cwd=scratch, check=True, capture_output=True)
    exported, committed = _tree(scratch / 'spanrl'), _tree(root / 'spanrl')
    assert exported.keys() == committed.keys(), "spanrl/ files differ from the notebooks' exports: run `make sync`"
    stale = [str(k) for k in exported if exported[k] != committed[k]]
    assert not stale, f"spanrl/{stale} out of sync with nbs/: edit the notebook, then run `make sync`"

def test_notebooks_are_clean(scratch, root):
    subprocess.run([str(BIN / 'nbdev_clean')], cwd=scratch, check=True, capture_output=True)
    dirty = [p.name for p in sorted((root / 'nbs').glob('*.ipynb'))
             if (scratch / 'nbs' / p.name).read_bytes() != p.read_bytes()]
    dirty += [p.name for p in sorted((root / 'reproductions').glob('*.ipynb')) if _clean_copy(p) != p.read_bytes()]
    assert not dirty, f"notebooks not clean: {dirty}; run `make sync`"

def _clean_copy(nb: Path) -> bytes:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / nb.name
        shutil.copy(nb, tmp)
        subprocess.run([str(BIN / 'nbdev_clean'), '--fname', str(tmp)], check=True, capture_output=True, cwd=nb.parent.parent)
        return tmp.read_bytes()

def test_readme_is_rendered_from_index(root):
    from spanrl.report import render_readme
    assert (root / 'README.md').read_text() == render_readme(root / 'nbs' / 'index.ipynb'), \
        "README.md is stale: run `make sync`"

def test_ci_runs_the_readme_test_command(root):
    assert 'make test' in (root / '.ci' / 'run').read_text()
    readme = (root / 'README.md').read_text()
    assert readme.index('make report') < readme.index('make test') < 1500

def test_package_stands_without_the_checkout(tmp_path, root):
    """A plain (not editable) `pip install .` ships the registry and settings inside the package: imported from there,
    far from any checkout, `spanrl.offline` loads and CORL's IQL settings read."""
    site = tmp_path / 'site'
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation', '--target', str(site),
                        str(root)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    code = (f"import sys; sys.path.insert(0, {str(site)!r}); import spanrl, spanrl.offline; "
            "from spanrl.papers import papers_file, settings_dir; from spanrl.offline import corl_iql_config; "
            "print(spanrl.__file__, papers_file(), settings_dir(), corl_iql_config('hopper', 'medium').expectile)")
    out = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    pkg, papers, settings, expectile = out.stdout.split()
    assert pkg.startswith(str(site)) and papers == str(site / 'spanrl' / 'registry' / 'papers.yaml'), out.stdout
    assert settings == str(site / 'spanrl' / 'registry' / 'settings') and float(expectile) == 0.7
