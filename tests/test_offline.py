"Offline learners: a NaN loss stops the run and keeps the last good checkpoint; mismatched datasets are refused."
import pytest
import torch

from spanrl import forge
from spanrl.data import DatasetError, write_dataset
from spanrl.envs import env_info
from spanrl.offline import IQL, IQLConfig, prepare_data, train_offline
from spanrl.cql import CQLConfig, train_cql

@pytest.fixture
def minari_root(tmp_path, monkeypatch):
    monkeypatch.setenv('MINARI_DATASETS_PATH', str(tmp_path / 'datasets'))
    return tmp_path / 'datasets'

SMALL = dict(dataset='spanrl/hopper/random-2k-v0', batch_size=32, eval_episodes=1,
             actor=dict(arch='mlp', hidden=[16]), critic=dict(arch='mlp', hidden=[16]))

def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(minari_root, tmp_path):
    data, info, _ = prepare_data(SMALL['dataset'], progress=False)
    learner = IQL(IQLConfig(**SMALL, steps=400, eval_every=5), data.obs_dim, data.act_dim, 1.0, [0])
    ckpt = tmp_path / 'iql.pt'
    poison = learner.update
    def update(batch, n=[0]):
        n[0] += 1
        out = poison(batch)
        if n[0] >= 12: out['q_loss'] = torch.tensor(float('nan'))
        return out
    learner.update = update
    with pytest.raises(FloatingPointError, match=r'q_loss became non-finite at update 12.*last good state \(step 10\)'):
        train_offline(learner, data, info, [0], 400, 5, 1, 'hopper', checkpoint=ckpt, progress=False)
    assert torch.load(ckpt, weights_only=False)['step'] == 10

def test_dataset_recorded_on_another_environment_is_refused(minari_root):
    eps = forge.rollout(None, 'Hopper-v5', 300, seed=0, n_envs=2)
    write_dataset('spanrl/walker2d/odd-v0', eps, 'Hopper-v5', {})
    with pytest.raises(DatasetError, match='was recorded on Hopper-v5, but its id names walker2d'):
        train_cql(CQLConfig(**{**SMALL, 'dataset': 'spanrl/walker2d/odd-v0'}, steps=2, eval_every=1), seeds=[0], progress=False)

def test_bad_values_fail_before_training():
    with pytest.raises(ValueError, match='IQL steps must be a positive integer'): IQLConfig(steps=-5).validate()
    with pytest.raises(ValueError, match="CQL critic must be make_net options with an 'arch'"): CQLConfig(critic=dict(hidden=[8])).validate()
    with pytest.raises(ValueError, match="IQL dataset is not a dataset id \\(malformed dataset id 'hopper-medium-v2'"):
        IQLConfig(dataset='hopper-medium-v2').validate()
    with pytest.raises(ValueError, match="unknown device 'gpu0'"): IQLConfig(device='gpu0').validate()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device 'cuda' asked for, but .* sees no CUDA GPU: use device='cpu'"):
            CQLConfig(device='cuda').validate()

RESUMABLE = """
import json, sys, torch
from spanrl.offline import IQLConfig, train_iql
cfg = IQLConfig(dataset='spanrl/hopper/random-2k-v0', steps=1500, batch_size=32, eval_every=100, eval_episodes=1,
                actor=dict(arch='mlp', hidden=[32]), critic=dict(arch='mlp', hidden=[32]))
out = train_iql(cfg, [0, 1], progress=False, checkpoint=sys.argv[1] if len(sys.argv) > 1 else None)
print(json.dumps(dict(curve=out['curve'], losses=out['losses'], resumed_from=out['resumed_from'])))
"""

def test_offline_run_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    import json, os, signal, subprocess, sys, time
    env = dict(os.environ, MINARI_DATASETS_PATH=str(tmp_path / 'datasets'), OMP_NUM_THREADS='1')
    run = lambda *a: subprocess.run([sys.executable, '-c', RESUMABLE, *a], env=env, capture_output=True, text=True, timeout=600)
    whole = run()
    assert whole.returncode == 0, whole.stderr[-2000:]
    ck = tmp_path / 'iql.pt'
    p = subprocess.Popen([sys.executable, '-c', RESUMABLE, str(ck)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and not ck.exists(): time.sleep(0.05)
    time.sleep(0.3)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    import torch
    at = torch.load(ck, weights_only=False)['step']
    assert 100 <= at < 1500, 'the kill should land after the first checkpoint and before the end'
    resumed = run(str(ck))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = json.loads(whole.stdout), json.loads(resumed.stdout)
    assert b['resumed_from'] == at
    assert b['curve'] == a['curve'] and b['losses'] == a['losses']
