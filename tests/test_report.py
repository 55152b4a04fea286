"End to end: reproduction notebooks through papermill into a rendered report, with resume and failures."
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from spanrl import report
from spanrl.records import load_records

def spanrl_cli(*args, cwd):
    "The console script, with Minari's dataset directory inside the test's folder (forged datasets stay there)."
    exe = Path(sys.executable).with_name('spanrl')
    env = dict(os.environ, MINARI_DATASETS_PATH=str(Path(cwd) / 'minari'))
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)

@pytest.fixture(scope='module')
def smoke_report(tmp_path_factory):
    out = tmp_path_factory.mktemp('report')
    r = spanrl_cli('report', '--scale', 'smoke', '--out', str(out), cwd=out)
    assert r.returncode == 0, r.stdout + r.stderr
    return out, r

def test_smoke_report_renders_figures_and_tables(smoke_report):
    out, _ = smoke_report
    html = (out / 'index.html').read_text()
    assert html.count('data:image/png;base64') >= 1         # the KHRONOS-fit figure, embedded
    assert 'KHRONOS fit' in html and 'at scale <strong>smoke</strong>' in html
    assert 'nRMSE IQM' in html                              # the results table
    executed = nbformat.read(out / 'report.ipynb', as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == 'code' for o in c.outputs]
    assert not [o for o in outputs if o.output_type == 'error' or o.get('name') == 'stderr'], 'report cell raised or warned'
    # the parameters cell is hidden with the rest of the code
    assert "runs_dir = " not in html

def test_smoke_report_writes_one_record_per_fit(smoke_report):
    out, _ = smoke_report
    df = load_records(out / 'runs' / 'smoke' / 'khronos_fit' / 'results' / 'seed0')
    assert len(df) == 2 * 3 * 2  # targets x classes x budgets at smoke scale
    assert set(df.scale) == {'smoke'}
    for _, r in df.iterrows():
        assert r.params['net'] > 0 and r.wall_clock_s > 0 and len(r.metrics['nrmse']) == 1
        assert r.versions['torch'] and r.curves['nrmse']

def test_smoke_report_has_span_online_runs_and_ledger(smoke_report):
    out, _ = smoke_report
    df = load_records(out / 'runs' / 'smoke' / 'span_online' / 'results' / 'seed0')
    assert sorted(df.run_id) == ['ppo-CartPole-v1-mlp', 'ppo-CartPole-v1-span',
                                 'sac-InvertedPendulum-v5-mlp', 'sac-InvertedPendulum-v5-span']
    for _, r in df.iterrows():
        assert len(r.seeds) == 2 and len(r.curves['eval_return'][-1][1]) == 2
        assert r.params['actor'] > 0 and r.params['critic'] > 0 and r.metrics['steps_per_s'] > 0
    html = (out / 'index.html').read_text()
    assert 'SPAN online' in html and 'no evidence (smoke)' in html and 'held</td>' not in html

def test_smoke_report_has_datasets_section(smoke_report):
    out, _ = smoke_report
    df = load_records(out / 'runs' / 'smoke' / 'datasets' / 'results' / 'seed0')
    assert sorted(df.run_id) == ['dmc-cheetah-run-10bins', 'dmc-cheetah-run-30bins', 'dmc-cheetah-run-3bins', 'dmc-quadruped-walk-3bins',
                                 'halfcheetah', 'hopper', 'walker2d']
    for r in df.itertuples():
        assert all(d['transitions'] in (2_000, 4_000) for d in r.metrics['datasets'])  # smoke size (medium-expert doubles)
    html = (out / 'index.html').read_text()
    assert 'Datasets built at scale smoke' in html and 'spanrl/hopper/random-2k-v0' in html
    assert 'spanrl/dmc-cheetah-run-3bins/random-2k-v0' in html      # SPIN's factored DM Control data
    assert 'spanrl/dmc-cheetah-run-30bins/medium-expert-2k-v0' in html   # and its bin ablation's

def test_smoke_report_has_spin_section(smoke_report):
    out, _ = smoke_report
    df = load_records(out / 'runs' / 'smoke' / 'spin' / 'results' / 'seed0')
    base = 'dmc-cheetah-run-3bins-random-medium-expert-'
    assert sorted(df.run_id) == [base + m for m in ('ar-iql', 'f-iql', 'saint', 'spin')]
    for r in df.itertuples():
        assert len(r.metrics['eval_seconds']) == len(r.curves['eval']) and r.params['actor'] > 0
    spin = df[df.run_id == base + 'spin'].iloc[0]
    assert spin.metrics['asm_updates'] > 0 and set(spin.metrics['asm_accuracy']) == {'exact', 'slot', 'independent', 'chance', 'state_only'}
    html = (out / 'index.html').read_text()
    assert 'SPIN: a frozen, pre-trained action model' in html and 'SPIN paper (A40 minutes to target)' in html
    assert 'stage-2 updates/s' in html

def test_every_reproduction_renders_exactly_one_section(smoke_report):
    "Sections register from the papers' modules: each reproduction of the registry has one heading, no more, no less."
    from spanrl.page import SECTIONS, GENERIC
    from spanrl.papers import load_paper_modules
    out, _ = smoke_report
    executed = nbformat.read(out / 'report.ipynb', as_version=4)
    md = [o['data'].get('text/markdown', '') for c in executed.cells if c.cell_type == 'code' for o in c.outputs if o.get('data')]
    load_paper_modules()
    for name, r in report.REPRODUCTIONS.items():
        heading = f"## {SECTIONS.get(name, GENERIC).title or r['paper'] + ': ' + r['title']}\n"
        assert sum(m.startswith(heading) for m in md) == 1, (name, heading)

def test_stale_runs_lists_no_fresh_run(smoke_report):
    "Runs just made from a clean checkout are current: `spanrl reproduce --stale` would rerun none of them."
    from spanrl.records import git_revision
    out, _ = smoke_report
    names = ['khronos_fit', 'span_online']
    stale = report.stale_runs(out, names, 'smoke')
    assert set(stale) <= {k for _, k, _ in report.plan(names, 'smoke')}
    if not (git_revision(report.repro_dir().parent) or '').endswith('-dirty'): assert stale == {}, stale

def test_second_run_skips_finished_reproductions(smoke_report):
    out, _ = smoke_report
    nb = out / 'runs' / 'smoke' / 'khronos_fit' / 'khronos_fit-seed0.ipynb'
    before = nb.stat().st_mtime_ns
    r = spanrl_cli('report', '--scale', 'smoke', '--out', str(out), cwd=out)
    assert r.returncode == 0, r.stderr
    assert 'already done, skipped' in r.stdout
    assert nb.stat().st_mtime_ns == before
    assert json.loads((out / 'status.json').read_text())['failures'] == {}

def test_failed_reproduction_is_reported_and_keeps_its_notebook(tmp_path, monkeypatch):
    bad = tmp_path / 'repros'
    bad.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("scale = 'smoke'\nseed = 0\nout_dir = '.'", metadata={'tags': ['parameters']}),
                nbformat.v4.new_code_cell("raise ValueError('dataset spanrl/nope-v0 not found')")]
    nb.metadata['kernelspec'] = dict(name='python3', display_name='python3', language='python')
    nbformat.write(nb, bad / 'broken.ipynb')
    monkeypatch.setitem(report.REPRODUCTIONS, 'broken', dict(notebook='broken.ipynb', paper='-', title='-'))
    monkeypatch.setattr(report, 'repro_dir', lambda: bad)
    with pytest.raises(RuntimeError, match=r"broken\.ipynb failed: ValueError: dataset spanrl/nope-v0 not found .*broken-seed0\.failed\.ipynb"):
        report.run_reproduction('broken', 'smoke', tmp_path / 'out')
    failed = tmp_path / 'out' / 'runs' / 'smoke' / 'broken' / 'broken-seed0.failed.ipynb'
    assert 'dataset spanrl/nope-v0 not found' in failed.read_text()
    assert not (failed.parent / 'broken-seed0.ipynb').exists()  # not marked done: the next run retries it

def test_cli_rejects_bad_scale(tmp_path):
    r = spanrl_cli('report', '--scale', 'huge', '--out', str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "invalid choice: 'huge'" in r.stderr

def test_report_renders_in_a_real_browser_with_its_figures(smoke_report, tmp_path):
    """Headless Chromium (Debian's package; `make test` installs it) loads the page; a probe script appended to a copy
    of it counts the images that decoded, and a screenshot is taken."""
    out, _ = smoke_report
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    assert browser, 'chromium is not installed: `make test` installs it (apt-get install chromium)'
    page = tmp_path / 'probe.html'
    probe = ("<script>window.addEventListener('load', () => { const imgs = [...document.images]; "
             "document.body.setAttribute('data-images', imgs.length); "
             "document.body.setAttribute('data-loaded', imgs.filter(i => i.complete && i.naturalWidth > 0).length); });</script>")
    page.write_text((out / 'index.html').read_text().replace('</body>', probe + '</body>'))
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', f'--user-data-dir={tmp_path / "profile"}']
    dom = subprocess.run([browser, *flags, '--virtual-time-budget=5000', '--dump-dom', page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'data-images="(\d+)" data-loaded="(\d+)"', dom)
    assert m, 'the page did not finish loading in Chromium'
    assert int(m[1]) >= 3 and m[1] == m[2], f'{m[2]} of {m[1]} figures loaded'
    shot = tmp_path / 'report.png'
    subprocess.run([browser, *flags, '--window-size=1200,2400', f'--screenshot={shot}', (out / 'index.html').as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000  # a rendered page of text, tables and figures, not a blank one

def test_report_lists_failed_and_missing_runs_and_a_rerun_fills_them(smoke_report, tmp_path):
    """A deleted record (as an error message advises) and a failed run: the page still renders every section, says
    which runs have no valid record and why; the next batch reruns exactly those two."""
    src, _ = smoke_report
    out = tmp_path / 'copy'; shutil.copytree(src, out)
    online, dsets = out / 'runs' / 'smoke' / 'span_online', out / 'runs' / 'smoke' / 'datasets'
    (online / 'results' / 'seed0' / 'span_online' / 'sac-InvertedPendulum-v5-span.json').unlink()
    (dsets / 'datasets-hopper-seed0.done.json').unlink(); (dsets / 'results' / 'seed0' / 'datasets' / 'hopper.json').unlink()
    (dsets / 'datasets-hopper-seed0.ipynb').rename(dsets / 'datasets-hopper-seed0.failed.ipynb')
    html = report.render_report(out, 'smoke').read_text()
    text = re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', html))
    assert '3 of 4 runs done (1 invalid)' in text and '6 of 7 runs done (1 failed)' in text     # the status table (span_online; datasets)
    assert 'span_online-sac-InvertedPendulum-v5-span-seed0 invalid record' in text              # in its own section
    assert 'datasets-hopper-seed0 failed' in text
    assert 'SPAN online' in text and 'Claims ledger' in text                                    # nothing after it lost
    r = spanrl_cli('report', '--scale', 'smoke', '--out', str(out), cwd=out)
    assert r.returncode == 0, r.stderr[-2000:]
    ran = sorted(l.split(':')[0] for l in r.stdout.splitlines() if ': ran (' in l)
    assert ran == ['datasets-hopper-seed0', 'span_online-sac-InvertedPendulum-v5-span-seed0']
    assert not (dsets / 'datasets-hopper-seed0.failed.ipynb').exists()                          # stale failure cleared
    assert 'no valid record' not in (out / 'index.html').read_text()
