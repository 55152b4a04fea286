"""The GPU path of the offline learners: CUDA-graph replay computes what eager updates compute, a GPU run trains and
evaluates, and a NaN loss is still caught when finiteness is checked on the device. Skipped where torch sees no GPU
(CI); run on a lent GPU with `python -m pytest tests/test_gpu.py`."""
import pytest
import torch

from spanrl.data import Transitions, minari_root
from spanrl.offline import IQL, IQLConfig, update_fn, train_iql, train_offline, prepare_data
from spanrl.cql import CQL, CQLConfig

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
NETS = dict(mlp=dict(arch='mlp', hidden=[64, 64]), span=dict(arch='span', nmodes=4, nelems=4, degree=2),
            kan=dict(arch='kan', hidden=[16]))

def _data(n=4000, obs=11, act=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    T = 200
    eps = [dict(observations=torch.randn(T + 1, obs, generator=g).numpy(), actions=(torch.rand(T, act, generator=g) * 2 - 1).numpy(),
                rewards=torch.randn(T, generator=g).numpy(), terminations=(torch.arange(T) == T - 1).numpy(),
                truncations=torch.zeros(T, dtype=torch.bool).numpy()) for _ in range(n // T)]
    return Transitions(eps, normalize=True).to('cuda')

def _assert_replay_matches(eager, graphed, data, n: int, label: str = '', poison_at: int | None = None):
    "`n` updates of `eager` (eager) and `graphed` (CUDA graph) give equal losses; `poison_at`: NaN-fill freed memory there."
    ok = torch.ones((), dtype=torch.bool, device='cuda')
    steps = [update_fn(l, data, ok, graph=g) for l, g in ((eager, False), (graphed, True))]
    for i in range(n):
        if i == poison_at:  # the graph must own every buffer it reads: recycle freed memory and poison it with NaN
            torch.cuda.empty_cache(); junk = torch.full((1 << 26,), float('nan'), device='cuda'); del junk
        a, b = (s() for s in steps)
        for k in a: torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=1e-4, msg=f'{label} {k} at step {i}'.strip())
    assert steps[1].graph is not None, f"the {label or 'offline'} update was never captured"

def _assert_same_parameters(eager, graphed):
    for p, q in zip(eager.ag.parameters(), graphed.ag.parameters()): torch.testing.assert_close(p, q, rtol=1e-3, atol=1e-5)

@pytest.mark.parametrize('algo', ['iql', 'cql'])
@pytest.mark.parametrize('arch', list(NETS))
def test_graph_replay_equals_eager(algo, arch):
    data = _data()
    Cfg, Learner = (IQLConfig, IQL) if algo == 'iql' else (CQLConfig, CQL)
    cfg = Cfg(steps=1000, batch_size=64, actor=NETS[arch], critic=NETS[arch], device='cuda')
    eager, graphed = Learner(cfg, 11, 3, 1.0, [0, 1, 2]), Learner(cfg, 11, 3, 1.0, [0, 1, 2])
    graphed.ag.load_state_dict(eager.ag.state_dict())
    _assert_replay_matches(eager, graphed, data, 16, poison_at=8)
    _assert_same_parameters(eager, graphed)

def test_gpu_run_trains_and_evaluates(tmp_path):
    with minari_root(tmp_path):
        cfg = IQLConfig(dataset='spanrl/hopper/random-2k-v0', steps=300, batch_size=64, eval_every=150, eval_episodes=2,
                        actor=NETS['span'], critic=NETS['mlp'], device='cuda')
        out = train_iql(cfg, seeds=[0, 1], progress=False)
    assert out['device'].startswith('cuda') and len(out['curve']) == 2
    assert all(torch.isfinite(torch.tensor(c[1])).all() for c in out['curve'])
    assert out['learner'].pi_opt.param_groups[0]['lr'].item() < cfg.actor_lr  # the cosine schedule reached the graph

def test_gpu_nan_is_caught(tmp_path):
    with minari_root(tmp_path):
        cfg = IQLConfig(dataset='spanrl/hopper/random-2k-v0', steps=400, batch_size=64, eval_every=400, eval_episodes=1,
                        critic_lr=1e9, device='cuda')
        data, info, _ = prepare_data(cfg.dataset, progress=False)
        with pytest.raises(FloatingPointError, match='became non-finite'):
            train_offline(IQL(cfg, 11, 3, 1.0, [0]), data, info, [0], 400, 400, 1, check_every=50)

@pytest.mark.parametrize('variant', [dict(), dict(improvement='gradient', anchor='joint')])
def test_spar_graph_replay_equals_eager(variant):
    "SPAR's three stages (and its ablations' update) replayed as CUDA graphs compute what they compute eagerly."
    from spanrl.spar import SPAR, SPARConfig
    from spanrl.loop import Phase
    data = _data()
    cfg = SPARConfig(batch_size=64, actor=NETS['mlp'], critic=NETS['mlp'], vae=NETS['mlp'], device='cuda', **variant)
    eager, graphed = SPAR(cfg, 11, 3, 1.0, [0, 1]), SPAR(cfg, 11, 3, 1.0, [0, 1])
    graphed.ag.load_state_dict(eager.ag.state_dict())
    with torch.no_grad():   # a nonzero gate, so the residual (and what it regresses onto) is not trivially 0
        for l in (eager, graphed): l.ag.gate.fill_(0.5)
    for phase in ('bc', 'value', 'residual'):
        for l in (eager, graphed): l.begin_phase(Phase(phase, 16, 16))
        _assert_replay_matches(eager, graphed, data, 12, phase)
    _assert_same_parameters(eager, graphed)

def test_spaars_offline_graph_replay_equals_eager():
    "SPAARS's offline pre-training update replayed as a CUDA graph computes what it computes eagerly."
    from spanrl.spaars import SPAARS, SPAARSConfig
    from spanrl.loop import Phase
    data = _data()
    cfg = SPAARSConfig(batch_size=64, actor=NETS['mlp'], critic=NETS['mlp'], vae=NETS['mlp'], rnd=NETS['mlp'], rnd_dim=8, device='cuda')
    eager, graphed = SPAARS(cfg, 11, 3, 1.0, [0, 1]), SPAARS(cfg, 11, 3, 1.0, [0, 1])
    graphed.ag.load_state_dict(eager.ag.state_dict())
    for l in (eager, graphed): l.begin_phase(Phase('offline', 16, 16))
    _assert_replay_matches(eager, graphed, data, 12, 'offline')
    _assert_same_parameters(eager, graphed)

@pytest.mark.parametrize('actor', ['mlp', 'ar', 'saint', 'spin'])
def test_spin_learners_train_on_the_gpu(actor):
    "Every SPIN-family actor updates (ASM phase too) and acts on the GPU with finite losses; the frozen encoder stays put."
    from spanrl.spin import Factored, FactoredConfig, factored_phases
    from spanrl.loop import Phase
    g = torch.Generator().manual_seed(0)
    T = 200
    eps = [dict(observations=torch.randn(T + 1, 17, generator=g).numpy(), actions=torch.randint(0, 3, (T, 6), generator=g).float().numpy(),
                rewards=torch.rand(T, generator=g).numpy(), terminations=torch.zeros(T, dtype=torch.bool).numpy(),
                truncations=(torch.arange(T) == T - 1).numpy()) for _ in range(20)]
    data = Transitions(eps, normalize=True).to('cuda')
    cfg = FactoredConfig(actor=actor, d_model=32, heads=4, blocks=2, head_hidden=16, asm_epochs=1, device='cuda')
    learner = Factored(cfg, 17, (3,) * 6, [0, 1])
    ok = torch.ones((), dtype=torch.bool, device='cuda')
    for ph in factored_phases(cfg, len(data)):
        learner.begin_phase(ph)
        before = [p.clone() for p in learner.ag.actor.encoder.parameters()] if actor == 'spin' and ph.name != 'asm' else None
        step = update_fn(learner, data, ok, graph=False, batch_size=ph.batch_size or None)
        for _ in range(3): losses = step()
        assert bool(ok), losses
        if before: assert all(torch.equal(p, q) for p, q in zip(before, learner.ag.actor.encoder.parameters()))
    a = learner.act(data.obs[:8].expand(2, 8, -1))
    assert a.shape == (2, 8, 6) and a.device.type == 'cuda'
