"""Faults a user meets, through the entry points a user has: the batch killed (SIGKILL, Ctrl-C) with two runs at once,
two batches on one output, a full disk as output and as dataset directory, concurrent builders of one dataset,
a bad papermill parameter, the forge's command line. Each must give one clear error and lose nothing."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from spanrl import report

EXE = Path(sys.executable).with_name('spanrl')

def _as_from_a_terminal():
    # a shell starts background jobs with SIGINT ignored, and a child inherits that: when the tests themselves run in
    # the background, the batch must still get Ctrl-C as a terminal's foreground job does
    signal.signal(signal.SIGINT, signal.SIG_DFL)

def batch(out, *extra, paper='span_online'):
    "`spanrl reproduce` in a session of its own (so a test can signal it as a terminal would), output captured."
    env = dict(os.environ, MINARI_DATASETS_PATH=str(Path(out) / 'minari'))
    return subprocess.Popen([str(EXE), 'reproduce', '--paper', paper, '--scale', 'smoke', '--out', str(out), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_as_from_a_terminal)

def wait_for(cond, timeout=240, what='condition'):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond(): return
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')

def running(out) -> list:
    return list((Path(out) / 'runs' / 'smoke').glob('*/.*.running.ipynb'))

def done(out) -> set:
    return {p.name for p in (Path(out) / 'runs' / 'smoke').glob('*/*.done.json')}

def test_sigkill_of_a_two_job_batch_stops_its_workers_and_kernels(tmp_path):
    p = batch(tmp_path, '--jobs', '2')
    wait_for(lambda: len(running(tmp_path)) >= 1, what='a run to start')
    procs = psutil.Process(p.pid).children(recursive=True)   # workers and their notebook kernels
    assert len(procs) >= 2
    os.kill(p.pid, signal.SIGKILL); p.wait()
    _, alive = psutil.wait_procs(procs, timeout=20)
    assert not alive, f'still running after the parent was killed: {[a.cmdline()[:3] for a in alive]}'
    finished = done(tmp_path)
    time.sleep(2)
    assert done(tmp_path) == finished                      # nothing runs on after the kill

def test_ctrl_c_stops_every_run_at_once_and_the_batch_resumes(tmp_path):
    p = batch(tmp_path, '--jobs', '2')
    wait_for(lambda: len(running(tmp_path)) >= 1, what='a run to start')
    procs = psutil.Process(p.pid).children(recursive=True)
    t0 = time.time()
    os.killpg(p.pid, signal.SIGINT)                        # what a terminal sends on Ctrl-C: the whole group
    _, err = p.communicate(timeout=60)
    assert time.time() - t0 < 30 and p.returncode == 130, err[-2000:]
    assert 'interrupted; every finished run is kept' in err and 'Traceback' not in err
    _, alive = psutil.wait_procs(procs, timeout=20)
    assert not alive
    finished = done(tmp_path)
    assert len(finished) < 4                                # stopped, not run to the end
    q = batch(tmp_path, '--jobs', '2'); out, err = q.communicate(timeout=600)
    assert q.returncode == 0, err[-2000:]
    assert out.count('already done, skipped') == len(finished) and len(done(tmp_path)) == 4
    assert 'KeyboardInterrupt' not in out + err             # kernels' own shutdown chatter goes to the run logs

def test_a_second_batch_on_the_same_output_says_who_holds_it(tmp_path):
    p = batch(tmp_path)
    try:
        wait_for(lambda: (tmp_path / '.lock').exists() and (tmp_path / '.lock').read_text(), what='the lock')
        q = batch(tmp_path); _, err = q.communicate(timeout=60)
        assert q.returncode == 1 and f'{tmp_path} is in use by pid {p.pid}' in err, err
        assert 'wait for it to finish, or pass another --out' in err
    finally:
        os.killpg(p.pid, signal.SIGINT); p.communicate(timeout=60)

@pytest.fixture
def small_disk(tmp_path):
    "A 50 MB file system of its own (tmpfs), to fill up and to be a mount point; skipped where mounting is not allowed."
    mnt = tmp_path / 'disk'; mnt.mkdir()
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=50m', 'tmpfs', str(mnt)], capture_output=True, text=True)
    if r.returncode: pytest.skip(f'cannot mount a tmpfs here: {r.stderr.strip()}')
    yield mnt
    subprocess.run(['umount', '-l', str(mnt)], capture_output=True)

def fill(disk: Path, leave: int):
    "Fill `disk` but `leave` bytes."
    import shutil
    (disk / 'ballast').write_bytes(b'\0' * max(0, shutil.disk_usage(disk).free - leave))

def test_a_full_output_disk_says_so_and_where(small_disk):
    fill(small_disk, 40_000)
    p = batch(small_disk / 'out', paper='khronos_fit'); out, err = p.communicate(timeout=300)
    assert p.returncode == 1
    assert 'no space left on device' in out + err and str(small_disk / 'out') in out + err, out + err
    assert not list((small_disk / 'out').rglob('*.failed.ipynb'))     # no empty failed notebooks to point at

def load_in_subprocess(ds_id: str, root: Path) -> subprocess.CompletedProcess:
    "`spanrl.data.load` in a fresh interpreter: HDF5 is not left usable in a process where a write hit a full disk."
    code = f"from spanrl.data import load\nprint(load({ds_id!r}, progress=False).total_steps)"
    return subprocess.run([sys.executable, '-c', code], env=dict(os.environ, MINARI_DATASETS_PATH=str(root)),
                          capture_output=True, text=True, timeout=300)

def test_a_full_dataset_disk_says_so_and_a_mount_point_root_works(small_disk):
    r = load_in_subprocess('spanrl/hopper/random-2k-v0', small_disk / 'datasets')
    assert r.returncode == 0 and r.stdout.strip() == '2000', r.stderr[-1500:]          # staged on the mount itself
    fill(small_disk, 20_000)
    r = load_in_subprocess('spanrl/hopper/random-3k-v0', small_disk / 'datasets')
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'spanrl.data.DatasetError: no space left on device for spanrl/hopper/random-3k-v0 '
                           f'under {small_disk}'), r.stderr[-1500:]
    assert not list((small_disk / 'datasets' / '.spanrl-staging').iterdir())

def test_concurrent_builders_of_one_dataset_both_get_it(tmp_path):
    code = ("from spanrl.data import load, dataset_facts\n"
            "load('spanrl/hopper/random-3k-v0', progress=False); print(dataset_facts('spanrl/hopper/random-3k-v0')['checksum'])")
    env = dict(os.environ, MINARI_DATASETS_PATH=str(tmp_path / 'datasets'))
    ps = [subprocess.Popen([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in ps]
    assert [p.returncode for p in ps] == [0, 0], [e[-1500:] for _, e in outs]
    assert outs[0][0] == outs[1][0]

def test_builds_killed_half_way_leave_no_staging_behind(tmp_path, monkeypatch):
    from spanrl.data import load
    monkeypatch.setenv('MINARI_DATASETS_PATH', str(tmp_path / 'datasets'))
    dead = subprocess.Popen([sys.executable, '-c', 'pass']); dead.wait()   # a pid that no longer runs
    stale = tmp_path / 'datasets' / '.spanrl-staging' / f'{dead.pid}-0123abcd'
    (stale / 'spanrl' / 'hopper').mkdir(parents=True)
    load('spanrl/hopper/random-2k-v0', progress=False)
    assert not stale.exists()

def test_bad_papermill_parameters_get_one_error_listing_each(tmp_path):
    params = dict(algo='ppo', env_id='Pendulum-v1', arch='mlp', scale='smoke', seed='1', out_dir=str(tmp_path))
    with pytest.raises(RuntimeError) as e:
        report.execute_notebook(report.repro_dir() / 'span_online.ipynb', tmp_path / 'run.ipynb', params)
    msg = str(e.value)
    assert 'span_online: 2 bad parameter(s)' in msg and "env_id='Pendulum-v1' is not one of 'CartPole-v1', 'Acrobot-v1'" in msg
    assert "seed='1' must be a non-negative integer" in msg

def test_cli_refuses_a_negative_seed_and_bad_forge_arguments_before_writing(tmp_path):
    r = subprocess.run([str(EXE), 'reproduce', '--seed', '-1', '--out', str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and 'must be a non-negative integer' in r.stderr
    env = dict(os.environ, SPANRL_FORGE_DIR=str(tmp_path / 'forge'))
    r = subprocess.run([str(EXE), 'forge', 'train', 'hopper', '--steps', '0'], capture_output=True, text=True, env=env)
    assert r.returncode == 1 and 'spanrl: error:' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-1500:]
    assert not (tmp_path / 'forge').exists()                # nothing made for a run that cannot start

def test_forge_build_prints_what_it_built(tmp_path):
    env = dict(os.environ, MINARI_DATASETS_PATH=str(tmp_path / 'datasets'))
    r = subprocess.run([str(EXE), 'forge', 'build', 'spanrl/hopper/random-2k-v0'], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-1500:]
    assert r.stdout.startswith('built spanrl/hopper/random-2k-v0: ') and '2,000 transitions' in r.stdout
    assert 'MinariDataset' not in r.stdout
