"""Probe SPAR's stage 3 from one trained state: train stages 1-2 (BC + CVAE, then the value) once and save them, then
run stage 3 under several settings from that same state, so differences between the variants are stage 3's alone.
What `nbs/13_spar` reports about the residual's drift under an uninformative critic was measured this way.

    .venv/bin/python bench/spar_stage3_probe.py --env hopper --kind medium-replay --size 50000 \
        --bc 8000 --value 8000 --steps 2000 --seeds 2 --variant spar '{}' --variant uninformed '{"temperature": 1e-8}'

Stage 1-2 states are kept in --state-dir (keyed by dataset, budgets, seeds and device) and reused by later calls.
Prints the anchor's scores, each variant's scores at every evaluation and its stage-3 diagnostics.
"""
import argparse, json, time
from pathlib import Path
import numpy as np
import torch

from spanrl.spar import SPAR, SPARConfig, spar_phases
from spanrl.offline import prepare_data
from spanrl.loop import Phase, train_phases
from spanrl.data import dataset_id, parse_id

p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
p.add_argument('--env', default='hopper'); p.add_argument('--kind', default='medium-replay')
p.add_argument('--size', type=int, default=50_000); p.add_argument('--bc', type=int, default=8_000)
p.add_argument('--value', type=int, default=8_000); p.add_argument('--steps', type=int, default=2_000)
p.add_argument('--seeds', type=int, default=2); p.add_argument('--eval-every', type=int, default=500)
p.add_argument('--eval-episodes', type=int, default=5); p.add_argument('--device', default='cpu')
p.add_argument('--state-dir', default='/tmp/spar-probe')
p.add_argument('--variant', nargs=2, action='append', metavar=('NAME', 'JSON'), default=[],
               help="a stage-3 variant: a name and SPARConfig fields as JSON (repeatable)")
args = p.parse_args()
torch.set_num_threads(1)

net = dict(arch='mlp', hidden=[256, 256])
seeds = list(range(args.seeds))
cfg = SPARConfig(dataset=dataset_id(args.env, args.kind, args.size), batch_size=256, eval_every=args.eval_every,
                 eval_episodes=args.eval_episodes, actor=net, critic=net, vae=net, bc_steps=args.bc, value_steps=args.value,
                 steps=args.steps, device=args.device)
data, info, scale = prepare_data(cfg.dataset, cfg.normalize_reward, False)
env = parse_id(cfg.dataset)['env']
state = Path(args.state_dir) / f"{args.env}-{args.kind}-{args.size}-{args.bc}-{args.value}-{args.seeds}-{args.device}.pt"

def learner(c):
    return SPAR(c, data.obs_dim, data.act_dim, float(info.act_high.max()), seeds)

if not state.exists():
    state.parent.mkdir(parents=True, exist_ok=True)
    L = learner(cfg)
    out = train_phases(L, data, info, spar_phases(cfg)[:2], seeds, args.eval_episodes, env, reward_scale=scale, progress=False)
    torch.save(dict(learner=L.state_dict(), curve=out['curve']), state)
    print(f"stages 1-2: {out['wall_clock_s']:.0f} s", flush=True)
saved = torch.load(state, weights_only=False)
print('anchor', np.round(saved['curve'][-1][2], 1).tolist(), flush=True)
for name, fields in args.variant:
    c = SPARConfig(**{**cfg.__dict__, **json.loads(fields)}).validate()
    L = learner(c); L.begin_phase(Phase('value', 1, 1)); L.load_state_dict(saved['learner'])
    t0 = time.time()
    out = train_phases(L, data, info, [Phase('residual', args.steps, args.eval_every)], seeds, args.eval_episodes, env,
                       reward_scale=scale, progress=False)
    print(name, 'scores', [(t, np.round(s, 1).tolist()) for t, _, s in out['curve']], f'{time.time() - t0:.0f} s', flush=True)
    print(name, 'stage 3', {k: round(v, 4) for k, v in out['losses'][-1][1].items()}, flush=True)
