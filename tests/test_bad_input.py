"""Bad input through the library's entry points: each gets one error of the library's own kinds (ValueError, its
DatasetError, TypeError for a wrong type) whose message names what is wrong; never a bare KeyError, ZeroDivisionError,
a dtype error from deep inside torch, or a silently wrong result."""
import os
import tempfile
from unittest import mock

import numpy as np
import pytest
import torch

from spanrl.data import DatasetError, Transitions, dataset_id, load, parse_id
from spanrl.decqn import DecQNConfig
from spanrl.dmc import DMCEnv
from spanrl.nets import make_net
from spanrl.records import check_scale
from spanrl.report import plan, run_batch, select_reproductions
from spanrl.spin import FactoredConfig, prepare_factored

def episode(T=4, obs=11, act=3, **edits):
    ep = dict(observations=np.zeros((T + 1, obs)), actions=np.zeros((T, act)), rewards=np.ones(T),
              terminations=np.r_[np.zeros(T - 1), 1], truncations=np.zeros(T))
    ep.update(edits)
    return ep

def in_empty_forge(call):
    "`call` run against a forge directory with no checkpoints, whatever the repository has committed."
    def run():
        with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, SPANRL_FORGE_DIR=d): return call()
    return run

BAD = [  # (what, call, error type, words the message must hold)
    ('SPAN width 0', lambda: make_net('span', 4, 2, width=0), ValueError, 'SPAN width must be a positive integer'),
    ('SPAN nmodes 0', lambda: make_net('span', 4, 2, nmodes=0), ValueError, 'SPAN nmodes'),
    ('SPAN nelems -1', lambda: make_net('span', 4, 2, nelems=-1), ValueError, 'SPAN nelems'),
    ('SPAN degree 1.5', lambda: make_net('span', 4, 2, degree=1.5), ValueError, 'SPAN degree'),
    ('KAN empty grid range', lambda: make_net('kan', 4, 2, grid_range=(1, 1)), ValueError, 'grid_range must have finite lo < hi'),
    ('KAN reversed grid range', lambda: make_net('kan', 4, 2, grid_range=(1, -1)), ValueError, 'grid_range'),
    ('KAN grid range of one number', lambda: make_net('kan', 4, 2, grid_range=1.0), ValueError, 'must be two numbers'),
    ('KAN grid 0', lambda: make_net('kan', 4, 2, grid=0), ValueError, 'KAN grid must be a positive integer'),
    ('MLP hidden [0]', lambda: make_net('mlp', 4, 2, hidden=[0]), ValueError, 'MLP hidden[0] must be a positive integer'),
    ('MLP hidden [64, 2.5]', lambda: make_net('mlp', 4, 2, hidden=[64, 2.5]), ValueError, 'MLP hidden[1]'),
    ('out_dim True', lambda: make_net('mlp', 4, True), ValueError, 'out_dim must be a positive integer'),
    ('unknown kind', lambda: make_net('cnn', 4, 2), ValueError, "unknown network arch 'cnn'"),
    ('integer input', lambda: make_net('mlp', 4, 2)(torch.ones(3, 4, dtype=torch.long)), TypeError, 'floating-point tensor'),
    ('numpy input', lambda: make_net('mlp', 4, 2)(np.ones((3, 4))), TypeError, 'expects a torch.Tensor'),
    ('size 0k', lambda: parse_id('spanrl/hopper/medium-0k-v0'), DatasetError, 'asks for 0 transitions'),
    ('version 1', lambda: load('spanrl/hopper/medium-2k-v1'), DatasetError, 'version 0 only'),
    ('unknown env id', lambda: load('spanrl/ant/medium-v0'), DatasetError, 'no recipe for spanrl/ant/medium-v0'),
    ('size not multiple of 1000', lambda: dataset_id('hopper', 'medium', 1500), DatasetError, 'multiple of 1000'),
    ('id not a string', lambda: load(42), DatasetError, 'malformed dataset id 42'),
    ('NaN in transitions', lambda: Transitions([episode(rewards=np.array([1, np.nan, 1, 1]))]), DatasetError, 'rewards hold 1 non-finite'),
    ('inf in observations', lambda: Transitions([episode(observations=np.full((5, 11), np.inf))]), DatasetError, 'observations hold'),
    ('unknown scale', lambda: check_scale('huge'), ValueError, "unknown scale 'huge'"),
    ('unknown paper', lambda: select_reproductions(['SPINN']), ValueError, "unknown paper or reproduction 'SPINN'"),
    ('unknown scale in a plan', lambda: plan(['kan_cql'], 'large'), ValueError, "unknown scale 'large'"),
    ('zero jobs', lambda: run_batch(['kan_cql'], 'smoke', '/tmp/x', jobs=0), ValueError, 'jobs must be a positive integer'),
    ('DM Control data without checkpoints', in_empty_forge(lambda: load('spanrl/dmc-dog-trot-3bins/medium-4k-v0')), DatasetError,
     'no behaviour checkpoints for dmc-dog-trot-3bins yet'),
    ('DM Control data in part episodes', lambda: load('spanrl/dmc-cheetah-run-3bins/medium-expert-3k-v0'), DatasetError, 'a multiple of 2,000'),
    ('unknown DM Control level', lambda: load('spanrl/dmc-cheetah-run-3bins/medium-replay-v0'), DatasetError, 'kinds random, medium'),
    ('unknown DM Control task', lambda: DMCEnv('cheetah', 'walk'), ValueError, 'did you mean cheetah-run'),
    ('DecQN on continuous actions', lambda: DecQNConfig(env_id='spanrl/dmc-cheetah-run-v0').validate(), ValueError, 'needs discrete actions'),
    ('SPIN on continuous-action data', lambda: prepare_factored('spanrl/hopper/medium-2k-v0', progress=False), DatasetError,
     'these methods need factored discrete actions'),
    ('SPIN heads not dividing the width', lambda: FactoredConfig(d_model=100, heads=3).validate(), ValueError, 'd_model=100 must be divisible by heads=3'),
    ('SPIN masking over 100%', lambda: FactoredConfig(mask_frac=0.95, random_frac=0.1).validate(), ValueError, 'mask_frac + random_frac must be <= 1'),
    ('SPIN unknown objective', lambda: FactoredConfig(algo='cql').validate(), ValueError, "algo must be one of 'iql', 'awac', 'bcq', got 'cql'"),
    ('SPIN BCQ with the LSTM actor', lambda: FactoredConfig(actor='ar', algo='bcq').validate(), ValueError, 'BCQ with the autoregressive actor is not built'),
    ('SPIN negative ASM epochs', lambda: FactoredConfig(asm_epochs=-1).validate(), ValueError, 'asm_epochs must be'),
]

@pytest.mark.parametrize('what,call,kind,words', BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_one_clear_error(what, call, kind, words, tmp_path, monkeypatch):
    monkeypatch.setenv('MINARI_DATASETS_PATH', str(tmp_path / 'datasets'))
    with pytest.raises(kind) as e: call()
    assert words in str(e.value), f'{what}: {e.value}'

def test_good_input_in_numpy_types_is_accepted():
    net = make_net('kan', np.int64(4), np.int32(2), hidden=[np.int64(3)], grid_range=np.array([-2.0, 2.0]))
    assert net(torch.randn(5, 4, dtype=torch.float64)).shape == (5, 2)
