"""Layer benchmark: forward+backward time of spanrl's SPAN and KAN relative to an MLP, and against efficient-KAN.

    make bench                      # CPU, all sizes
    .venv/bin/python bench/layers.py --device cuda

Everything in a table is measured in the same process, interleaved (each repeat times every network once, in turn),
and reported as the median over repeats, so the ratios compare like with like on a noisy machine. The peer is
efficient-KAN's reference `KANLinear` (Blealtan/efficient-kan, as vendored by the `kan-gpt` package): it has no
ensemble axis, so at E members it is E separate modules, which is what a user of it would run for E seeds.
"""
import argparse, json, platform, statistics, sys, time
from pathlib import Path

import torch

from spanrl.nets import make_net, count_params
from spanrl.splines import bspline_basis

def efficient_kan(widths):
    "efficient-KAN's reference layers, stacked (kan-gpt's own KAN wrapper passes grid as spline_order)."
    from kan_gpt.efficient_kan.model import KANLinear
    return torch.nn.Sequential(*(KANLinear(a, b, grid_size=5, spline_order=3) for a, b in zip(widths[:-1], widths[1:])))

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()

def timed(step, device, inner):
    sync(device); t = time.perf_counter()
    for _ in range(inner): step()
    sync(device)
    return (time.perf_counter() - t) / inner * 1e3

def fwd_bwd(net, x):
    def step():
        net.zero_grad(set_to_none=True)
        net(x).square().mean().backward()
    return step

def loop_fwd_bwd(nets, xs):
    def step():
        for net, x in zip(nets, xs):
            net.zero_grad(set_to_none=True)
            net(x).square().mean().backward()
    return step

def bench_case(batch, E, args, device):
    d_in, d_out = 17, 6  # Walker2d observation -> action: the KAN-CQL paper's actor shape
    nets = {
        'MLP 256x256': make_net('mlp', d_in, d_out, ensemble=E, hidden=[256, 256], check_inputs=False),
        'SPAN M10 n6 k2': make_net('span', d_in, d_out, ensemble=E, nmodes=10, nelems=6, degree=2, check_inputs=False),
        'KAN [64]': make_net('kan', d_in, d_out, ensemble=E, hidden=[64], check_inputs=False),
    }
    x = torch.randn(E, batch, d_in, device=device).clamp(-1, 1)
    steps = {k: fwd_bwd(n.to(device), x) for k, n in nets.items()}
    peers = [efficient_kan([d_in, 64, d_out]).to(device) for _ in range(E)]
    steps['efficient-KAN [64]'] = loop_fwd_bwd(peers, list(x))
    params = {k: count_params(n) for k, n in nets.items()}
    params['efficient-KAN [64]'] = sum(p.numel() for p in peers[0].parameters())
    for s in steps.values(): s(); s()  # warm-up
    inner = max(1, int(args.inner * 256 * 8 / (batch * E) ** 0.5 / 8))
    times = {k: [] for k in steps}
    for _ in range(args.repeats):
        for k, s in steps.items(): times[k].append(timed(s, device, inner))
    return {k: statistics.median(v) for k, v in times.items()}, params

def bench_basis(batch, device, args):
    "Basis evaluation alone (fwd+bwd), spanrl's closed form vs efficient-KAN's Cox-de Boor recursion."
    from kan_gpt.efficient_kan.model import KANLinear
    layer = KANLinear(64, 6).to(device)
    x = (torch.rand(batch, 64, device=device) * 2 - 1).requires_grad_()
    ours = lambda: bspline_basis((x + 1) / 2, 5, 3).square().sum().backward()
    theirs = lambda: layer.b_splines(x).square().sum().backward()
    for f in (ours, theirs): f(); f()
    t = {'spanrl': [], 'efficient-KAN': []}
    for _ in range(args.repeats):
        t['spanrl'].append(timed(ours, device, args.inner)); t['efficient-KAN'].append(timed(theirs, device, args.inner))
    return {k: statistics.median(v) for k, v in t.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--batches', type=int, nargs='+', default=[256, 4096])
    p.add_argument('--ensembles', type=int, nargs='+', default=[1, 32])
    p.add_argument('--repeats', type=int, default=7)
    p.add_argument('--inner', type=int, default=8)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--out', default=None, help='also write the table (markdown) and raw numbers (json) here')
    args = p.parse_args()
    device = torch.device(args.device)
    if args.threads: torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    head = (f"# Layer benchmark ({device.type}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"{platform.processor() or platform.machine()})\n\n"
            "forward+backward ms per call (median of {r} interleaved repeats); ratio = time / MLP time in the same row\n"
            .format(r=args.repeats))
    rows, raw = [], []
    for batch in args.batches:
        for E in args.ensembles:
            t, params = bench_case(batch, E, args, device)
            m = t['MLP 256x256']
            rows.append(f"| {batch} | {E} | {m:.2f} | " + " | ".join(
                f"{t[k]:.2f} ({t[k] / m:.2f}x)" for k in ('SPAN M10 n6 k2', 'KAN [64]', 'efficient-KAN [64]'))
                + f" | {t['efficient-KAN [64]'] / t['KAN [64]']:.2f}x |")
            raw.append(dict(batch=batch, ensemble=E, ms=t, params=params))
            print(rows[-1], file=sys.stderr, flush=True)
    table = ("| batch | E | MLP 256x256 | SPAN M10 n6 k2 | KAN [64] (spanrl) | efficient-KAN [64] | efficient-KAN / spanrl KAN |\n"
             "|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    par = raw[0]['params']
    table += "\n\nparameters per network: " + ", ".join(f"{k} {v:,}" for k, v in par.items())
    basis = [(b, bench_basis(b, device, args)) for b in args.batches]
    table += ("\n\nB-spline basis alone (64 inputs, grid 5, cubic; fwd+bwd ms): " + "; ".join(
        f"batch {b}: spanrl {v['spanrl']:.3f}, efficient-KAN {v['efficient-KAN']:.3f} "
        f"({v['efficient-KAN'] / v['spanrl']:.2f}x)" for b, v in basis))
    print(head + "\n" + table)
    if args.out:
        out = Path(args.out); out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix('.md').write_text(head + "\n" + table + "\n\nCommand: `" + " ".join(sys.argv) + "`\n")
        out.with_suffix('.json').write_text(json.dumps(dict(cases=raw, basis=basis), indent=1))

if __name__ == '__main__':
    main()
