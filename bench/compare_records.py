"""Are two runs' records the same where a refactor must not change them? Every field but provenance and timings.

    python bench/compare_records.py OLD_OUT NEW_OUT     # two `spanrl reproduce --out` folders (or results folders)

Prints one line per record that differs (and the first differing field), and exits 1 if any does.
"""
import json
import math
import sys
from pathlib import Path

PROVENANCE = {'git_rev', 'created', 'code', 'versions', 'wall_clock_s', 'datasets'}
# timings inside metrics and curves: wall-clock measurements, different on every run
TIMING = {'steps_per_s', 'seconds_per_1k_updates', 'eval_seconds', 'asm_seconds', 'seconds', 'updates_per_s', 'clock',
          'train_seconds', 'wall_s', 'fps', 'time_s', 'wall_clock_s'}

def strip(x):
    "The record without provenance, timing keys at any depth, and NaN made comparable."
    if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if k not in TIMING and not k.endswith('_seconds')}
    if isinstance(x, list): return [strip(v) for v in x]
    if isinstance(x, float) and math.isnan(x): return 'nan'
    return x

def first_difference(a, b, path=''):
    if type(a) != type(b): return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b: return f"{path}.{k}: only in {'new' if k in b else 'old'}"
            if (d := first_difference(a[k], b[k], f"{path}.{k}")): return d
    elif isinstance(a, list):
        if len(a) != len(b): return f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if (d := first_difference(x, y, f"{path}[{i}]")): return d
    elif a != b: return f"{path}: {a!r} vs {b!r}"

def records(root: Path) -> dict:
    return {str(p.relative_to(root)): json.loads(p.read_text()) for p in sorted(root.rglob('results/seed*/*/*.json'))}

def main(old, new):
    a, b = records(Path(old)), records(Path(new))
    bad = sorted(set(a) ^ set(b))
    for k in bad: print(f"only in {'old' if k in a else 'new'}: {k}")
    for k in sorted(set(a) & set(b)):
        ra, rb = ({f: v for f, v in strip(r).items() if f not in PROVENANCE} for r in (a[k], b[k]))
        if (d := first_difference(ra, rb)): bad.append(k); print(f"differs: {k} at {d}")
    print(f"{len(set(a) & set(b)) - len([k for k in bad if k in a and k in b])} of {len(set(a) | set(b))} records identical "
          "(all fields but provenance and timings)")
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main(*sys.argv[1:3]))
