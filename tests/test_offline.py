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
    with pytest.raises(DatasetError, match='dataset has observations of width 11 .* but Walker2d-v5 has 17 and 6'):
        train_cql(CQLConfig(**{**SMALL, 'dataset': 'spanrl/walker2d/odd-v0'}, steps=2, eval_every=1), seeds=[0], progress=False)

def test_bad_values_fail_before_training():
    with pytest.raises(ValueError, match='IQL steps must be a positive integer'): IQLConfig(steps=-5).validate()
    with pytest.raises(ValueError, match="CQL critic needs an 'arch'"): CQLConfig(critic=dict(hidden=[8])).validate()
    with pytest.raises(DatasetError, match='malformed dataset id'): IQLConfig(dataset='hopper-medium-v2').validate()
    with pytest.raises(ValueError, match="unknown device 'gpu0'"): IQLConfig(device='gpu0').validate()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device 'cuda' asked for, but .* sees no CUDA GPU: use device='cpu'"):
            CQLConfig(device='cuda').validate()
