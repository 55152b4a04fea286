"""Correctness against a peer: spanrl's IQL and CQL against d3rlpy's on the same forged dataset, the same number of
updates and seeds, evaluated by the same code (spanrl.envs.evaluate, fresh episodes, deterministic actions).

    make bench-offline          # once: installs d3rlpy into bench/.peers
    .venv/bin/python bench/offline_scores.py [--dataset spanrl/hopper/medium-50k-v0] [--algos iql] [--updates 5000] [--seeds 0 1]

Both libraries get CORL's / d3rlpy's reproduction settings: states standardised with the dataset's statistics,
IQL: rewards scaled by 1000 / (max - min episode return), the actor's learning rate cosine-decayed over the run,
2x256 networks. CQL: CORL's settings (3x256 actor and critics, learning rates 3e-5 / 3e-4, 10 sampled actions,
weight 10, no reward scaling), or the CPU-sized CQL of the quick reproductions with --batch-size 64 --n-actions 4
--actor-lr 1e-4. Both CQLs keep the conservative weight fixed (no Lagrange) and tune the SAC temperature at the actor's
learning rate. Prints a markdown table: final normalised score per seed, mean +- std, wall-clock.

    .venv/bin/python bench/offline_scores.py --algos cql --updates 3000 --batch-size 64 --n-actions 4 --actor-lr 1e-4
"""
import argparse, sys, time
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / '.peers'))

from spanrl.data import load, parse_id, normalized_score, Transitions
from spanrl.envs import evaluate
from spanrl.offline import IQLConfig, train_iql, dataset_env_id
from spanrl.cql import CQLConfig, train_cql

def d3rlpy_dataset(ds_id):
    import d3rlpy
    data = Transitions.from_minari(load(ds_id, progress=False))
    term = data.term.numpy()
    # d3rlpy splits episodes at terminals or timeouts; the forge's truncations are D4RL's timeouts
    return d3rlpy.dataset.MDPDataset(data.obs.numpy(), data.act.numpy(), data.rew.numpy(), term,
                                     timeouts=data.trunc.numpy() * (1 - term))

def d3rlpy_run(algo, ds_id, updates, seed, eval_episodes, cql):
    import d3rlpy
    d3rlpy.seed(seed)
    ds = d3rlpy_dataset(ds_id)
    if algo == 'iql':
        sched = d3rlpy.optimizers.CosineAnnealingLRFactory(T_max=updates)
        cfg = d3rlpy.algos.IQLConfig(observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
                                     reward_scaler=d3rlpy.preprocessing.ReturnBasedRewardScaler(multiplier=1000.0),
                                     actor_optim_factory=d3rlpy.optimizers.AdamFactory(lr_scheduler_factory=sched))
    else:
        enc = d3rlpy.models.VectorEncoderFactory([256, 256, 256])
        cfg = d3rlpy.algos.CQLConfig(observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
                                     actor_learning_rate=cql['actor_lr'], critic_learning_rate=3e-4,
                                     temp_learning_rate=cql['actor_lr'], batch_size=cql['batch_size'],
                                     n_action_samples=cql['n_actions'], conservative_weight=10.0, initial_alpha=1.0,
                                     alpha_learning_rate=0.0, critic_encoder_factory=enc, actor_encoder_factory=enc)
    agent = cfg.create(device='cpu:0')
    t = time.perf_counter()
    agent.fit(ds, n_steps=updates, n_steps_per_epoch=updates, show_progress=False, save_interval=10 ** 9,
              logger_adapter=d3rlpy.logging.NoopAdapterFactory())
    wall = time.perf_counter() - t
    env_id = dataset_env_id(ds_id)
    act = lambda obs: torch.as_tensor(agent.predict(obs.reshape(-1, obs.shape[-1]).numpy())).view(*obs.shape[:2], -1)
    ret = evaluate(act, env_id, [seed], eval_episodes).mean(1).numpy()
    return float(normalized_score(parse_id(ds_id)['env'], ret)[0]), wall

def spanrl_run(algo, ds_id, updates, seeds, eval_episodes, cql):
    if algo == 'iql': out = train_iql(IQLConfig(dataset=ds_id, steps=updates, eval_every=updates, eval_episodes=eval_episodes), seeds, progress=False)
    else:
        out = train_cql(CQLConfig(dataset=ds_id, steps=updates, eval_every=updates, eval_episodes=eval_episodes,
                                  actor=dict(arch='mlp', hidden=[256, 256, 256]), **cql), seeds, progress=False)
    return out['final_score'], out['wall_clock_s']

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dataset', default='spanrl/hopper/medium-50k-v0')
    p.add_argument('--algos', nargs='+', default=['iql'])
    p.add_argument('--updates', type=int, default=5000)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--eval-episodes', type=int, default=10)
    p.add_argument('--batch-size', type=int, default=256, help='CQL only (IQL keeps 256)')
    p.add_argument('--n-actions', type=int, default=10, help="CQL's sampled actions per state")
    p.add_argument('--actor-lr', type=float, default=3e-5, help="CQL's actor (and temperature) learning rate")
    a = p.parse_args()
    cql = dict(batch_size=a.batch_size, n_actions=a.n_actions, actor_lr=a.actor_lr)
    import d3rlpy, structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    rows = []
    for algo in a.algos:
        ours, our_wall = spanrl_run(algo, a.dataset, a.updates, a.seeds, a.eval_episodes, cql)
        peer = [d3rlpy_run(algo, a.dataset, a.updates, s, a.eval_episodes, cql) for s in a.seeds]
        for lib, scores, wall in (('spanrl', ours, our_wall), ('d3rlpy', [s for s, _ in peer], sum(w for _, w in peer))):
            rows.append(f"| {algo.upper()} | {lib} | {' / '.join(f'{s:.1f}' for s in scores)} | {np.mean(scores):.1f} +- "
                        f"{np.std(scores):.1f} | {wall:.0f} s |")
            print(rows[-1], file=sys.stderr, flush=True)
    cql_note = f"CQL batch {a.batch_size}, {a.n_actions} sampled actions, actor lr {a.actor_lr:g}; " if 'cql' in a.algos else ''
    print(f"# Scores on {a.dataset}: {a.updates:,} updates, seeds {a.seeds}, {a.eval_episodes} evaluation episodes, {cql_note}"
          f"torch {torch.__version__}, d3rlpy {d3rlpy.__version__}, {torch.get_num_threads()} CPU threads\n\n"
          "| algo | library | final normalised score per seed | mean +- std | training wall-clock (all seeds) |\n"
          "|---|---|---|---|---|\n" + "\n".join(rows))

if __name__ == '__main__':
    main()
