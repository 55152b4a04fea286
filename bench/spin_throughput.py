"""SPIN's update throughput on this machine: gradient updates per second of the ASM's pre-training step (batch 1,024)
and of stage 2 (batch 256, IQL) for SPIN (frozen encoder), SAINT (the same actor trained) and F-IQL (the MLP actor:
the baseline), at E seeds stacked; against the same transformer written plainly (torch's eager
`nn.MultiheadAttention`, `nn.LayerNorm`, `nn.Linear`, one model per seed, run one after another) measured in the same
run. Also the memory one seed's training state takes (parameters, gradients and Adam's moments; on a GPU the peak
allocated during an update, per seed).

    .venv/bin/python bench/spin_throughput.py [--d-model 256] [--blocks 3] [--ensembles 1 4] [--updates 20] [--repeats 3]
    python bench/spin_throughput.py --device cuda --ensembles 1 16 --updates 200     # on a GPU

Data: synthetic cheetah-run-shaped transitions (17-d states, 6 slots of 3 values, 100k rows). Each figure is the median
of `repeats` interleaved timings; aggregate updates/s counts every member's update.
"""
import argparse, statistics, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from spanrl.data import Transitions
from spanrl.spin import Factored, FactoredConfig, factored_phases, ASM_PHASE
from spanrl.asm import mask_slots, masked_slot_loss
from spanrl.loop import Phase, update_fn
from spanrl.nets import member_generators

OBS, N, BINS, ROWS = 17, 6, 3, 100_000

def synthetic(seed=0):
    rng = np.random.default_rng(seed)
    T = 1000
    return [dict(observations=rng.normal(size=(T + 1, OBS)).astype('f4'), actions=rng.integers(0, BINS, (T, N)).astype('f4'),
                 rewards=rng.uniform(size=T).astype('f4'), terminations=np.zeros(T, bool), truncations=np.r_[np.zeros(T - 1), 1].astype(bool))
            for _ in range(ROWS // T)]

def sync(device):
    if device.startswith('cuda'): torch.cuda.synchronize()

class PlainBlock(nn.Module):
    "The official block (pre-LN, separate LN for queries and keys/values, FFN d-2d-d) on torch's eager nn.MultiheadAttention."
    def __init__(self, d, heads, dropout=0.1):
        super().__init__()
        self.ln_q, self.ln_kv, self.ln_f = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.ffn = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * d, d), nn.Dropout(dropout))
    def forward(self, x):
        kv = self.ln_kv(x)
        x = x + self.drop(self.attn(self.ln_q(x), kv, kv, need_weights=False)[0])
        return x + self.ffn(self.ln_f(x))

class PlainASM(nn.Module):
    "The ASM for one seed, written plainly: nn.Embedding per slot, PlainBlocks, an nn.Sequential head per slot."
    def __init__(self, d, heads, blocks, head_hidden=128):
        super().__init__()
        self.state = nn.Sequential(nn.Linear(OBS, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.tables = nn.ModuleList(nn.Embedding(BINS + 1, d) for _ in range(N))
        self.blocks = nn.Sequential(*[PlainBlock(d, heads) for _ in range(blocks)])
        self.heads = nn.ModuleList(nn.Sequential(nn.Linear(d, head_hidden), nn.GELU(), nn.Dropout(0.1), nn.Linear(head_hidden, BINS))
                                   for _ in range(N))
    def forward(self, obs, ids):
        x = torch.cat([self.state(obs)[:, None], torch.stack([t(ids[:, i]) for i, t in enumerate(self.tables)], 1)], 1)
        z = self.blocks(x)[:, 1:]
        return torch.stack([h(z[:, i]) for i, h in enumerate(self.heads)], 1)

def spanrl_timer(kind, E, data, updates, args):
    actor = {'asm': 'spin', 'spin': 'spin', 'saint': 'saint', 'f-iql': 'mlp'}[kind]
    cfg = FactoredConfig(dataset='spanrl/dmc-cheetah-run-3bins/medium-v0', actor=actor, d_model=args.d_model, heads=args.heads,
                         blocks=args.blocks, head_hidden=args.head_hidden, device=args.device)
    learner = Factored(cfg, OBS, (BINS,) * N, list(range(E)))
    phase = Phase(ASM_PHASE if kind == 'asm' else 'offline', 10 ** 6, 10 ** 6)
    learner.begin_phase(phase)
    finite = torch.ones((), dtype=torch.bool, device=args.device)
    step = update_fn(learner, data, finite, False, 1024 if kind == 'asm' else 256)
    return learner, step

def plain_timer(E, data, updates, args):
    "E plain ASMs (one per seed), each one update in turn: what a per-seed loop over an eager model costs."
    models = [PlainASM(args.d_model, args.heads, args.blocks, args.head_hidden).to(args.device) for _ in range(E)]
    opts = [torch.optim.Adam(m.parameters(), 4e-4) for m in models]
    gens = member_generators(list(range(E)), args.device)
    def step():
        o, a, *_ = data.sample(gens, 1024)
        a = a.long()
        inputs, chosen = mask_slots(a, (BINS,) * N, gens)
        for e, (m, opt) in enumerate(zip(models, opts)):
            loss = masked_slot_loss(m(o[e], inputs[e])[None], a[e:e + 1], chosen[e:e + 1])
            opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    return models, step

def state_bytes(params, E):
    "Parameters, their gradients and Adam's two moments, per seed (trainable parameters only)."
    return 4 * sum(p.numel() for p in params if p.requires_grad) * 4 / E

def timed(step, updates, E, device):
    for _ in range(5): step()
    sync(device); t = time.perf_counter()
    for _ in range(updates): step()
    sync(device)
    return E * updates / (time.perf_counter() - t)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--ensembles', type=int, nargs='+', default=[1, 4])
    ap.add_argument('--updates', type=int, default=20); ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--d-model', type=int, default=256); ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--blocks', type=int, default=3); ap.add_argument('--head-hidden', type=int, default=128)
    ap.add_argument('--out', default=None, help='write the table to OUT.md')
    args = ap.parse_args()
    data = Transitions(synthetic(), normalize=True).to(args.device)
    rows = []
    for E in args.ensembles:
        timers = {}
        for kind in ('asm', 'spin', 'saint', 'f-iql'):
            learner, step = spanrl_timer(kind, E, data, args.updates, args)
            params = learner.ag.asm.parameters() if kind == 'asm' else learner.ag.parameters()
            timers[kind] = (step, state_bytes(list(params), E))
        models, step = plain_timer(E, data, args.updates, args)
        timers['asm (plain)'] = (step, state_bytes([p for m in models for p in m.parameters()], E))
        rates = {k: [] for k in timers}
        peak = {}
        for _ in range(args.repeats):
            for k, (step, _) in timers.items():
                if args.device.startswith('cuda'): torch.cuda.reset_peak_memory_stats()
                rates[k].append(timed(step, args.updates, E, args.device))
                if args.device.startswith('cuda'): peak[k] = torch.cuda.max_memory_allocated() / E
        med = {k: statistics.median(v) for k, v in rates.items()}
        for k in timers:
            rows.append((E, k, med[k], med[k] / med['f-iql'] if k != 'asm (plain)' and k != 'asm' else None,
                         med['asm'] / med['asm (plain)'] if k == 'asm' else None, timers[k][1] / 2 ** 20,
                         peak.get(k, float('nan')) / 2 ** 20))
    head = ("| E | update | aggregate updates/s | / F-IQL's | spanrl ASM / plain ASM | training state per seed (MiB) | peak memory per seed (MiB) |\n"
            "|---|---|---|---|---|---|---|")
    fmt = lambda v, f: '' if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, f)
    lines = [head] + [f"| {E} | {k} | {r:.1f} | {fmt(x, '.2f')} | {fmt(y, '.2f')} | {s:.1f} | {fmt(p, '.1f')} |" for E, k, r, x, y, s, p in rows]
    text = (f"SPIN updates on {args.device} (torch {torch.__version__}, {torch.get_num_threads()} threads), d_model {args.d_model}, "
            f"{args.heads} heads, {args.blocks} blocks; ASM batch 1,024, stage 2 batch 256 (IQL)\n\n" + '\n'.join(lines))
    print(text)
    if args.out:
        from pathlib import Path
        Path(args.out + '.md').write_text(f"`python bench/spin_throughput.py {' '.join(__import__('sys').argv[1:])}`\n\n" + text + '\n')

if __name__ == '__main__':
    main()
