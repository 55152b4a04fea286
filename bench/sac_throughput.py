"""SAC throughput on this machine: environment steps (each followed by one critic update, and actor/temperature
updates every other step, CleanRL's schedule) per second, for MLP and SPAN actor-critics, at E seeds stacked.

    .venv/bin/python bench/sac_throughput.py [--env HalfCheetah-v5] [--steps 1500] [--ensembles 1 3 8]

Aggregate steps/s counts every member's environment step. Each measurement is one short `train_sac` run after
`learning_starts` random steps, so it includes the same Python, environment and update costs as a real run (and one
1-episode evaluation at the end, under 3% of the time at these settings).
"""
import argparse, sys, time
import torch
from spanrl.sac import SACConfig, train_sac

NETS = {'mlp': dict(hidden=[256, 256]), 'span': dict(nmodes=10, nelems=6, degree=2)}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--env', default='HalfCheetah-v5')
    p.add_argument('--steps', type=int, default=1500)
    p.add_argument('--warmup', type=int, default=256)
    p.add_argument('--ensembles', type=int, nargs='+', default=[1, 3, 8])
    a = p.parse_args()
    rows = []
    for E in a.ensembles:
        res = {}
        for arch in ('mlp', 'span'):
            cfg = SACConfig(env_id=a.env, total_steps=a.steps, learning_starts=a.warmup, eval_every=10 ** 9,
                            eval_episodes=1, arch=arch, net=NETS[arch])
            r = train_sac(cfg, seeds=list(range(E)), progress=False)
            res[arch] = r['steps_per_s'] * E
        rows.append(f"| {E} | {res['mlp']:.0f} | {res['span']:.0f} | {res['span'] / res['mlp']:.2f}x |")
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"# SAC throughput, {a.env}, {a.steps} steps ({a.warmup} random first), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n\n| seeds E | MLP steps/s (all seeds) | SPAN steps/s (all seeds) | SPAN/MLP |\n"
          "|---|---|---|---|\n" + "\n".join(rows))

if __name__ == '__main__':
    main()
