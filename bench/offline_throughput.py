"""Offline update throughput on this machine: gradient updates per second of spanrl's IQL, CQL and SPAR (each of its
three stages) with MLP, SPAN and KAN networks, at E seeds stacked, against d3rlpy's IQL and CQL measured in the same
run, and SPAR against spanrl's IQL with the same networks, seeds and mode (d3rlpy has no SPAR).

    make bench-offline        # installs d3rlpy into bench/.peers (pip --target, not a package dependency), then runs
    .venv/bin/python bench/offline_throughput.py [--updates 200] [--ensembles 1 4] [--repeats 3] [--algos iql spar]
    python bench/offline_throughput.py --device cuda --ensembles 1 32 --updates 2000   # on a GPU

On a GPU every spanrl entry is measured twice, eagerly and replayed as one CUDA graph per update
(`spanrl.offline.update_fn`); d3rlpy is measured eagerly and, with `--peer-compile`, with its own
`compile_graph=True` (torch.compile + CUDA graphs).

Every learner trains on the same synthetic hopper-shaped data (11-d states, 3-d actions, 100k transitions), batch
256, 2x256 networks for both libraries (d3rlpy's default; CORL's CQL uses 3x256), 10 sampled actions in CQL.
Times exclude evaluation. Each figure is the median of `repeats` interleaved timings. Aggregate updates/s counts
every member's update; d3rlpy trains one seed per process, so its E-seed figure is its single-seed rate.
"""
import argparse, statistics, sys, time
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / '.peers'))

from spanrl.data import Transitions
from spanrl.offline import IQL, IQLConfig, update_fn
from spanrl.cql import CQL, CQLConfig
from spanrl.spar import SPAR, SPARConfig
from spanrl.loop import Phase

NETS = {'mlp': dict(arch='mlp', hidden=[256, 256]), 'span': dict(arch='span', nmodes=10, nelems=6, degree=2),
        'kan': dict(arch='kan', hidden=[32, 32])}
OBS, ACT, N = 11, 3, 100_000

def synthetic(seed=0):
    rng = np.random.default_rng(seed)
    T = 1000
    eps = [dict(observations=rng.normal(size=(T + 1, OBS)).astype('f4'), actions=rng.uniform(-1, 1, (T, ACT)).astype('f4'),
                rewards=rng.normal(size=T).astype('f4'), terminations=np.r_[np.zeros(T - 1), 1].astype(bool),
                truncations=np.zeros(T, bool)) for _ in range(N // T)]
    return eps

def sync(device):
    if device.startswith('cuda'): torch.cuda.synchronize()

SPAR_STAGES = ('spar-bc', 'spar-value', 'spar-residual')   # `--algos spar` times each stage's update

def spanrl_timer(algo, arch, E, data, updates, device='cpu', graph=False):
    common = dict(dataset='spanrl/hopper/medium-v0', steps=10 ** 6, actor=NETS[arch], critic=NETS[arch], device=device,
                  cuda_graph=graph)
    if algo.startswith('spar'):
        learner = SPAR(SPARConfig(**common, vae=NETS[arch]), OBS, ACT, 1.0, list(range(E)))
        learner.begin_phase(Phase(algo.split('-')[1], 10 ** 6, 10 ** 6))
    else:
        learner = (IQL if algo == 'iql' else CQL)((IQLConfig if algo == 'iql' else CQLConfig)(**common), OBS, ACT, 1.0, list(range(E)))
    finite = torch.ones((), dtype=torch.bool, device=device)
    step = update_fn(learner, data, finite, graph)
    def run():
        for _ in range(10): step()  # warm-up (and, with a graph, capture)
        sync(device); t = time.perf_counter()
        for _ in range(updates): step()
        sync(device)
        assert bool(finite), f"{algo} {arch} E={E}: non-finite loss"
        return E * updates / (time.perf_counter() - t)
    return run

def d3rlpy_timer(algo, eps, updates, device='cpu', compile_graph=False):
    import d3rlpy
    obs = np.concatenate([e['observations'][:-1] for e in eps]); act = np.concatenate([e['actions'] for e in eps])
    rew = np.concatenate([e['rewards'] for e in eps]); term = np.concatenate([e['terminations'] for e in eps])
    ds = d3rlpy.dataset.MDPDataset(obs, act, rew, term)
    kw = dict(compile_graph=True) if compile_graph else {}
    cfg = (d3rlpy.algos.IQLConfig(batch_size=256, **kw) if algo == 'iql'
           else d3rlpy.algos.CQLConfig(batch_size=256, n_action_samples=10, **kw))
    agent = cfg.create(device='cuda:0' if device.startswith('cuda') else 'cpu:0'); agent.build_with_dataset(ds)
    fit = lambda n: agent.fit(ds, n_steps=n, n_steps_per_epoch=n, show_progress=False, save_interval=10 ** 9,
                              logger_adapter=d3rlpy.logging.NoopAdapterFactory())
    if compile_graph: fit(20)  # compilation stays out of the timing
    def run():
        sync(device); t = time.perf_counter()
        fit(updates); sync(device)
        return updates / (time.perf_counter() - t)
    return run

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--updates', type=int, default=200)
    p.add_argument('--ensembles', type=int, nargs='+', default=[1, 4])
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--algos', nargs='+', default=['iql', 'cql', 'spar'])
    p.add_argument('--archs', nargs='+', default=list(NETS))
    p.add_argument('--device', default='cpu')
    p.add_argument('--peer-compile', action='store_true', help="also time d3rlpy with compile_graph=True (GPU)")
    p.add_argument('--no-peer', action='store_true', help="measure spanrl only")
    a = p.parse_args()
    gpu = a.device.startswith('cuda')
    try:
        if a.no_peer: raise ImportError
        import d3rlpy, structlog
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
        have_peer = True
    except ImportError:
        print("d3rlpy not found: run `make bench-offline` (installs it into bench/.peers); measuring spanrl only", file=sys.stderr)
        have_peer = False
    eps = synthetic()
    data = Transitions(eps).to(a.device)
    modes = ['eager', 'graph'] if gpu else ['eager']
    lines, keep, iql_rates = [], [], {}
    algos = [s for x in a.algos for s in (SPAR_STAGES if x == 'spar' else (x,))]
    for algo in algos:
        timers = {}
        keep.append(timers)  # captured graphs and their memory pools live until the end of the run
        if have_peer and not algo.startswith('spar'):
            timers[('d3rlpy', 'mlp', 1, 'eager')] = d3rlpy_timer(algo, eps, a.updates, a.device)
            if gpu and a.peer_compile: timers[('d3rlpy', 'mlp', 1, 'compiled')] = d3rlpy_timer(algo, eps, a.updates, a.device, True)
        for E in a.ensembles:
            for arch in a.archs:
                for mode in modes:
                    # eager GPU updates are launch-bound, so they get fewer of them to keep the run short
                    n = a.updates // 10 if gpu and mode == 'eager' else (a.updates // E if E > 1 and not gpu else a.updates)
                    timers[('spanrl', arch, E, mode)] = spanrl_timer(algo, arch, E, data, max(n, 20), a.device, mode == 'graph')
        times = {k: [] for k in timers}
        for _ in range(a.repeats):  # interleaved, so drift in machine load hits every entry alike
            for k, run in timers.items(): times[k].append(run())
        med = {k: statistics.median(v) for k, v in times.items()}
        base = med.get(('d3rlpy', 'mlp', 1, 'eager'))
        mlp1 = med.get(('spanrl', 'mlp', 1, 'eager'))   # absent when E=1 or MLP is not measured
        if algo == 'iql': iql_rates.update({k: v for k, v in med.items() if k[0] == 'spanrl'})
        for (lib, arch, E, mode), v in med.items():
            iql = iql_rates.get((lib, arch, E, mode)) if algo != 'iql' else None
            row = (f"| {algo.upper()} | {lib} | {arch.upper()} | {E} | {mode} | {v:,.1f} | "
                   + (f"{v / mlp1:.2f}x | " if mlp1 else "n/a | ")
                   + (f"{v / base:.2f}x |" if base else "n/a |") + (f" {v / iql:.2f}x |" if iql else " n/a |"))
            lines.append(row); print(row, file=sys.stderr, flush=True)
    where = torch.cuda.get_device_name() if gpu else f"{torch.get_num_threads()} CPU threads"
    print(f"# Offline update throughput, batch 256, torch {torch.__version__}, {where}"
          + (f", d3rlpy {d3rlpy.__version__}" if have_peer else "") +
          "\n\n| algo | library | nets | seeds E | mode | updates/s (all seeds) | vs spanrl MLP E=1 eager | vs d3rlpy eager | "
          "vs spanrl IQL, same nets, E, mode |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(lines))

if __name__ == '__main__':
    main()
