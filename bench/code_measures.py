"""The code measures issue 28 asks for, printed from the checkout (run from the repository root):

    .venv/bin/python bench/code_measures.py

1. exported cells: how many, how long (lines of code), the share over 30 lines and the count over 60, and functions
   assigned onto classes outside `@patch`;
2. settings fields documented on their own line (a comment beside the declaration), per settings class;
3. places per paper: the code cells outside a paper's own places that name it (its library and paper notebooks, its
   reproduction notebook, its settings file and its registry entry are its own).
"""
import dataclasses
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

def cells(path: Path):
    return [c for c in json.loads(path.read_text())['cells']]

def code_lines(src: str) -> int:
    return sum(1 for l in src.splitlines() if l.strip() and not l.strip().startswith('#|'))

def exported_cells():
    out = []
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for c in cells(nb):
            src = ''.join(c['source'])
            if c['cell_type'] == 'code' and re.match(r'\s*#\|\s*export', src): out.append((nb.stem, src))
    return out

def cell_sizes():
    sizes = [(nb, code_lines(s)) for nb, s in exported_cells()]
    n = len(sizes)
    over30, over60 = [x for x in sizes if x[1] > 30], [x for x in sizes if x[1] > 60]
    print(f"exported cells: {n}; over 30 lines: {len(over30)} ({len(over30) / n:.0%}); over 60: {len(over60)}; "
          f"longest {max(s for _, s in sizes)} lines")
    for nb, s in sorted(over60, key=lambda x: -x[1]): print(f"  over 60: {nb} ({s} lines)")
    assigned = [(nb, m.group(0)) for nb, s in exported_cells()
                for m in re.finditer(r'^[A-Z]\w*\.\w+ = (?!None)[a-z_]\w*$', s, re.M)]
    print(f"functions assigned onto classes outside @patch: {len(assigned)}")
    for nb, line in assigned: print(f"  {nb}: {line}")

def settings_fields():
    from spanrl.learner import Settings
    mods = [p.stem for p in (ROOT / 'spanrl').glob('*.py') if not p.stem.startswith('_')]
    for m in mods: importlib.import_module(f'spanrl.{m}')
    def subclasses(c): return [c] + [s for k in c.__subclasses__() for s in subclasses(k)]
    total = documented = 0
    for cls in sorted(set(subclasses(Settings)) - {Settings}, key=lambda c: (c.__module__, c.__name__)):
        if not cls.__module__.startswith('spanrl.'): continue
        src = inspect.getsource(cls)
        own = [f for f in dataclasses.fields(cls) if re.search(rf'^\s+{f.name}\s*:', src, re.M)]
        doc = [f for f in own if re.search(rf'^\s+{f.name}\s*:[^\n]*#', src, re.M)]
        total += len(own); documented += len(doc)
        print(f"  {cls.__module__}.{cls.__name__}: {len(doc)} of {len(own)} own fields documented on their line")
    print(f"settings fields documented: {documented} of {total}")

PAPERS = {  # the paper's word in code, and its own notebooks (library, paper, reproduction)
    'SPAR': (r'\bspar\b', {'13_spar', '94f_paper_spar', 'spar'}),
    'SPAARS': (r'\bspaars\b', {'14_spaars', '94e_paper_spaars', 'spaars'}),
    'SPIN': (r'\bspin\b', {'15_asm', '16_spin', '94d_paper_spin', 'spin',
                           '05b_dmc', '07a_decqn', '09b_forge_dmc'}),   # and its dataset family's notebooks
    'KAN-CQL': (r'\bkan_cql\b', {'94c_paper_kan_cql', 'kan_cql'}),
}
SHARED = ['nbs/89_papers.ipynb', 'nbs/90_report.ipynb', 'nbs/91_claims.ipynb', 'nbs/92_figures.ipynb',
          'nbs/92a_page.ipynb', 'nbs/93_docs.ipynb', 'reproductions/report.ipynb']

def places():
    for paper, (word, own) in PAPERS.items():
        hits = []
        for nb in sorted([*(ROOT / 'nbs').glob('*.ipynb'), *(ROOT / 'reproductions').glob('*.ipynb')]):
            if nb.stem in own or nb.stem in ('98_results', 'index'): continue   # results and index are documentation
            n = sum(1 for c in cells(nb) if c['cell_type'] == 'code' and re.search(word, ''.join(c['source']), re.I))
            if n: hits.append(f"{nb.relative_to(ROOT)} ({n})")
        print(f"  {paper}: code cells naming it outside its own places: {', '.join(hits) or 'none'}")
    shared = [p for p in SHARED if (ROOT / p).exists() and re.search(r'\bspar\b|\bspaars\b|\bspin\b', (ROOT / p).read_text(), re.I)]
    print(f"shared machinery files naming SPAR, SPAARS or SPIN: {', '.join(shared) or 'none'}")

if __name__ == '__main__':
    print('# Cell sizes'); cell_sizes()
    print('# Settings fields'); settings_fields()
    print('# Places per paper'); places()
