"""The batch runner: a killed batch resumes without redoing finished runs, a failing notebook does not stop the others,
the Ray backend runs the same runs, and the rendered report loads its figures in a real browser."""
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from spanrl import report
from spanrl.records import load_records

EXE = Path(sys.executable).with_name('spanrl')

def cli(*args, cwd, **kw):
    env = dict(os.environ, MINARI_DATASETS_PATH=str(Path(cwd) / 'minari'))
    return subprocess.Popen([str(EXE), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kw)

def comparable(df):
    "Records without what legitimately differs between two runs of the same thing (timings, dates)."
    return sorted((r.run_id, json.dumps(r.metrics.get('final', r.metrics.get('nrmse')), sort_keys=True))
                  for r in df.itertuples())

def test_killed_batch_resumes_without_redoing_finished_runs(tmp_path):
    args = ('reproduce', '--paper', 'span_online', '--scale', 'smoke', '--out', str(tmp_path))
    runs = tmp_path / 'runs' / 'smoke' / 'span_online'
    p = cli(*args, cwd=tmp_path)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(runs.glob('span_online-*.done.json'))) < 2: time.sleep(0.5)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    # finished = its records are checked and listed in <run>.done.json (a notebook alone is not finished)
    finished = {f: f.stat().st_mtime_ns for f in runs.glob('span_online-*.done.json')}
    assert 2 <= len(finished) < 4, 'the kill should land mid-batch'
    p = cli(*args, cwd=tmp_path); out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    assert out.count('already done, skipped') == len(finished)
    assert all(f.stat().st_mtime_ns == t for f, t in finished.items())           # not redone
    assert len(list(runs.glob('span_online-*.done.json'))) == 4 and not list(runs.glob('.*running*'))
    # the resumed batch's records equal an uninterrupted batch's (smoke runs are deterministic on one machine),
    # here run two notebooks at a time in the local process pool
    fresh = tmp_path / 'fresh'
    p = cli('reproduce', '--paper', 'span_online', '--scale', 'smoke', '--out', str(fresh), '--jobs', '2', cwd=tmp_path)
    assert p.communicate(timeout=600) and p.returncode == 0
    assert comparable(load_records(runs / 'results' / 'seed0')) == comparable(load_records(fresh / 'runs' / 'smoke' / 'span_online' / 'results' / 'seed0'))

def test_failing_notebook_lets_the_rest_finish_and_exits_nonzero(tmp_path, monkeypatch):
    bad = tmp_path / 'repros'
    shutil.copytree(report.repro_dir(), bad)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("scale = 'smoke'\nseed = 0\nout_dir = '.'\nwhich = 0", metadata={'tags': ['parameters']}),
                nbformat.v4.new_code_cell("if which == 1: raise ValueError('reward column is all NaN')\n"
                                          "from spanrl.records import make_record, write_record\n"
                                          "write_record(out_dir, make_record('broken', f'run{which}', scale, {}, {}))")]
    nb.metadata['kernelspec'] = dict(name='python3', display_name='python3', language='python')
    nbformat.write(nb, bad / 'broken.ipynb')
    monkeypatch.setitem(report.REPRODUCTIONS, 'broken', dict(notebook='broken.ipynb', paper='-', title='-',
                                                             sweep=lambda s: [dict(which=i) for i in range(3)]))
    monkeypatch.setattr(report, 'repro_dir', lambda: bad)
    lines = []
    failures = report.run_batch(['broken'], 'smoke', tmp_path / 'out', log=lines.append)
    # the failure names the notebook's own error, where it happened, and where the traceback and log are
    assert list(failures) == ['broken-1-seed0']
    assert re.search(r"ValueError: reward column is all NaN", failures["broken-1-seed0"])
    assert 'broken-1-seed0.failed.ipynb' in failures['broken-1-seed0'] and 'broken-1-seed0.log' in failures['broken-1-seed0']
    done = sorted(f.name for f in (tmp_path / 'out' / 'runs' / 'smoke' / 'broken').glob('broken-*.ipynb'))
    assert done == ['broken-0-seed0.ipynb', 'broken-1-seed0.failed.ipynb', 'broken-2-seed0.ipynb']
    assert 'reward column is all NaN' in (tmp_path / 'out' / 'runs' / 'smoke' / 'broken' / 'broken-1-seed0.log').read_text() or \
           'reward column is all NaN' in (tmp_path / 'out' / 'runs' / 'smoke' / 'broken' / 'broken-1-seed0.failed.ipynb').read_text()

def test_cli_exits_nonzero_and_names_the_failure(tmp_path):
    r = subprocess.run([str(EXE), 'reproduce', '--paper', 'SPIN?', '--scale', 'smoke', '--out', str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "unknown paper or reproduction 'SPIN?'" in r.stderr

def test_ray_backend_runs_smoke_runs_on_a_local_ray(tmp_path, monkeypatch):
    import ray  # a dev dependency: `make test` installs it
    monkeypatch.setenv('MINARI_DATASETS_PATH', str(tmp_path / 'minari'))
    keys = ['span_online-ppo-CartPole-v1-mlp-seed0', 'span_online-ppo-CartPole-v1-span-seed0']
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env=dict(env_vars=dict(MINARI_DATASETS_PATH=str(tmp_path / 'minari'))))
    try:
        lines = []
        failures = report.run_batch(['span_online'], 'smoke', tmp_path, backend='ray', keys=keys, log=lines.append)
    finally:
        ray.shutdown()
    assert failures == {}
    df = load_records(tmp_path / 'runs' / 'smoke' / 'span_online' / 'results' / 'seed0')
    assert sorted(df.run_id) == ['ppo-CartPole-v1-mlp', 'ppo-CartPole-v1-span']
    assert sum('ran' in l for l in lines) == 2
