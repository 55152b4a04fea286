"""Probe how SPIN's stage 2 depends on its pre-training: train SPIN on one factored dataset under several settings
(FactoredConfig fields as JSON; by default 0, 20 and 100 ASM epochs, the paper's epoch ablation) with the quick
scale's network and budget otherwise, and print each variant's ASM exact-match diagnostic, its return curve and its
final return per seed.

    OMP_NUM_THREADS=1 .venv/bin/python bench/spin_asm_probe.py --dataset spanrl/dmc-cheetah-run-3bins/random-medium-expert-50k-v0 \
        --variant asm20 '{"asm_epochs": 20}' --variant asm100 '{"asm_epochs": 100}' --out bench/results/spin-asm-epochs-cpu

Each variant is a fresh run from the same seeds (the same critic initialisation and batches: only the encoder's
pre-training differs). Costs on this CPU (one thread, 2 seeds): ~13 s an ASM epoch on 50k transitions, ~6 min for
5,000 stage-2 updates.
"""
import argparse, json, time
from pathlib import Path
import numpy as np
import torch

from spanrl.asm import asm_accuracy
from spanrl.nets import member_generators
from spanrl.papers import settings
from spanrl.spin import FactoredConfig, prepare_factored, train_factored

p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
p.add_argument('--dataset', default='spanrl/dmc-cheetah-run-3bins/random-medium-expert-50k-v0')
p.add_argument('--scale', default='quick', help="the spin settings' scale whose network and budget the variants start from")
p.add_argument('--seeds', type=int, default=2)
p.add_argument('--variant', nargs=2, action='append', metavar=('NAME', 'JSON'), default=[],
               help='a name and FactoredConfig fields as JSON (repeatable; default: 0, 20 and 100 ASM epochs)')
p.add_argument('--out', default=None, help='also write the table to OUT.md')
args = p.parse_args()
torch.set_num_threads(1)

S = settings('spin')
B = S['budget'][args.scale]
base = dict({k: B[k] for k in ('asm_epochs', 'steps', 'eval_every', 'eval_episodes', 'batch_size', 'asm_batch_size')},
            **S['networks'][args.scale], **S['methods']['spin'], dataset=args.dataset, device='cpu')
variants = args.variant or [(f'asm{n}', json.dumps({'asm_epochs': n})) for n in (0, 20, 100)]
seeds = list(range(args.seeds))
data, _ = prepare_factored(args.dataset, progress=False)
idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:min(len(data), 20_000)]
rows = []
for name, fields in variants:
    cfg = FactoredConfig(**{**base, **json.loads(fields)}).validate()
    t0 = time.time()
    out = train_factored(cfg, seeds, progress=False)
    L = out['learner']
    acc = asm_accuracy(L.ag.asm, data.obs[idx].expand(len(seeds), -1, -1), data.act[idx].long().expand(len(seeds), -1, -1),
                       member_generators(seeds, 'cpu'))
    curve = [(t, np.round(r, 0).tolist()) for t, r, *_ in out['curve']]
    final = np.asarray(out['final_return'])
    print(name, fields, f'{time.time() - t0:.0f} s', 'curve', curve, flush=True)
    rows.append((name, fields, float(np.mean(acc['exact'])), float(np.mean(acc['independent'])), float(np.mean(acc['chance'])),
                 final.round(1).tolist(), float(final.mean()), time.time() - t0))
    print(rows[-1], flush=True)
head = ("| variant | fields | ASM exact match | independence | chance | final return per seed | mean | minutes |\n"
        "|---|---|---|---|---|---|---|---|")
lines = [head] + [f"| {n} | `{f}` | {e:.3f} | {i:.3f} | {c:.3f} | {r} | {m:.0f} | {s / 60:.1f} |" for n, f, e, i, c, r, m, s in rows]
text = (f"SPIN on {args.dataset}, the {args.scale} scale's network and budget ({B['steps']:,} stage-2 updates, "
        f"{args.seeds} seeds), torch {torch.__version__}, 1 thread\n\n" + '\n'.join(lines))
print(text)
if args.out:
    import sys
    Path(args.out + '.md').write_text(f"`OMP_NUM_THREADS=1 python bench/spin_asm_probe.py {' '.join(sys.argv[1:])}`\n\n{text}\n")
