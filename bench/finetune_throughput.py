"""Offline-to-online fine-tuning throughput on this machine: online environment steps per second (each followed by
one update, the environments stepping as a real run does) of SPAARS and of IQL fine-tuned online, same data, seeds,
networks and device, measured in the same run; and SPAARS's offline pre-training updates per second against IQL's.

    .venv/bin/python bench/finetune_throughput.py [--dataset spanrl/hopper/medium-2k-v0] [--online 500] [--offline 300] [--ensembles 1 2] [--repeats 2]

Both learners start from their own offline pre-training of `--offline` updates; the online phase is then timed alone
(its own `train_phases` call, evaluation excluded by an interval longer than the phase). Each figure is the median of
`repeats` interleaved timings; aggregate rates count every member's step.
"""
import argparse, statistics, sys, time
import torch
from spanrl.spaars import SPAARS, SPAARSConfig
from spanrl.offline import IQL, IQLConfig, prepare_data
from spanrl.loop import Phase, train_phases

def timed(cls, cfg, data, info, scale, seeds, offline, online):
    "Seconds for `offline` pre-training updates, then for `online` environment steps, of a fresh learner."
    L = cls(cfg, data.obs_dim, data.act_dim, float(info.act_high.max()), seeds)
    t0 = time.perf_counter()
    train_phases(L, data, info, [Phase('offline', offline, offline)], seeds, 1, progress=False)
    t1 = time.perf_counter()
    train_phases(L, data, info, [Phase('online', online, online + 1, online=True)], seeds, 1, reward_scale=scale, progress=False)
    return t1 - t0, time.perf_counter() - t1

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dataset', default='spanrl/hopper/medium-2k-v0')
    p.add_argument('--offline', type=int, default=300)
    p.add_argument('--online', type=int, default=500)
    p.add_argument('--ensembles', type=int, nargs='+', default=[1, 2])
    p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--device', default='cpu')
    a = p.parse_args()
    net = dict(arch='mlp', hidden=[256, 256])
    data, info, scale = prepare_data(a.dataset, True, False)
    common = dict(dataset=a.dataset, batch_size=256, actor=net, critic=net, device=a.device)
    rows = []
    for E in a.ensembles:
        seeds = list(range(E))
        times = {'spaars': [], 'iql': []}
        for _ in range(a.repeats):   # interleaved, so a slow spell of the machine hits both
            times['spaars'].append(timed(SPAARS, SPAARSConfig(**common, vae=net, rnd=net), data, info, scale, seeds, a.offline, a.online))
            times['iql'].append(timed(IQL, IQLConfig(**common), data, info, scale, seeds, a.offline, a.online))
        med = {k: [statistics.median(t[i] for t in v) for i in (0, 1)] for k, v in times.items()}
        off = {k: E * a.offline / v[0] for k, v in med.items()}
        on = {k: E * a.online / v[1] for k, v in med.items()}
        rows.append(f"| {E} | {off['iql']:.0f} | {off['spaars']:.0f} | {off['spaars'] / off['iql']:.2f}x | "
                    f"{on['iql']:.0f} | {on['spaars']:.0f} | {on['spaars'] / on['iql']:.2f}x |")
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"# Fine-tuning throughput, {a.dataset}, {a.offline} offline updates then {a.online} online steps, device "
          f"{a.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, median of {a.repeats}\n\n"
          "| seeds E | IQL offline updates/s | SPAARS offline updates/s | SPAARS/IQL | IQL online steps/s | "
          "SPAARS online steps/s | SPAARS/IQL |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows))

if __name__ == '__main__':
    main()
