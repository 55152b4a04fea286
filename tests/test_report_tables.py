"""The report's tables show what the records hold: hand-made records with known numbers, rendered through the real
report notebook, must come out unchanged (a halved critic count, a dropped column or a stale run must show)."""
import re

import pytest

from spanrl import report
from spanrl.records import make_record, write_record

KAN_CQL = [  # (actor, critic, actor params, critic params per critic, seed scores, s per 1k updates)
    ('mlp', 'mlp', 7_692, 137_985, [50.0, 52.0], 10.0),
    ('kan', 'mlp', 1_104, 137_985, [40.0, 44.0], 12.0),
    ('mlp', 'kan', 7_692, 7_680, [20.0, 22.0], 9.0),
    ('kan', 'kan', 1_104, 7_680, [10.0, 12.0], 11.0),
]

SPAR = [  # (method, seed scores, seed support distances)
    ('spar', [80.0, 82.0], [0.10, 0.12]), ('bc', [30.0, 32.0], [0.05, 0.05]), ('td3bc', [60.0, 64.0], [0.30, 0.32]),
    ('iql', [70.0, 72.0], [0.20, 0.20]), ('cql', [50.0, 52.0], [0.08, 0.09])]

SPAARS = [  # (method, offline-end scores, final scores, hand-over step per seed)
    ('spaars', [40.0, 42.0], [90.0, 94.0], [2_000, 3_000]), ('iql-finetune', [50.0, 52.0], [70.0, 72.0], [None, None]),
    ('latent-only', [40.0, 42.0], [60.0, 62.0], [None, None]), ('raw-only', [30.0, 32.0], [20.0, 22.0], [None, None])]

def _spaars_record(method, offline, final, switch):
    curve = [(5_000, [0.0, 0.0], [10.0, 12.0]), (10_000, [0.0, 0.0], offline), (12_500, [0.0, 0.0], offline), (15_000, [0.0, 0.0], final)]
    windows = [dict(step=k * 1_000, novelty=[1.0 / k] * 2, gate_fire=[0.1 * k, 0.05 * k], raw_advantage=[0.2 * k] * 2,
                    handed=[k * 1_000 >= switch[0], k * 1_000 >= switch[1]]) for k in range(1, 6)] if method == 'spaars' else []
    gain = [f - o for f, o in zip(final, offline)]
    return make_record('spaars', f'hopper-medium-{method}', 'quick', dict(env='hopper', kind='medium', method=method),
                       dict(final_score=final, offline_score=offline, online_gain=gain, switch_step=switch,
                            offline_updates=10_000, online_steps=5_000), seeds=[0, 1], params={}, paper='SPAARS',
                       curves=dict(eval=curve, windows=windows))

@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp('tables')
    results = report.results_dir(out, 'quick', 'kan_cql')
    for kind in ('medium', 'medium-replay'):
        for actor, critic, n_actor, n_critic, scores, secs in KAN_CQL:
            cfg = dict(env='walker2d', kind=kind, actor_class=actor, critic_class=critic, steps=3_000, batch_size=64,
                       n_actions=4, actor_lr=1e-4)
            write_record(results, make_record('kan_cql', f'walker2d-{kind}-{actor}-{critic}', 'quick', cfg,
                                              dict(final_score=scores, seconds_per_1k_updates=secs), seeds=[0, 1],
                                              params=dict(actor=n_actor, critic=n_critic), paper='KAN-CQL',
                                              curves=dict(losses=[(1_000, dict(q_loss=9.0)), (2_000, dict(q_loss=4.0))])))
    stale = make_record('span_offline', 'walker2d-medium-mlp', 'quick', dict(env='walker2d', kind='medium', arch='mlp', steps=5_000),
                        dict(final_score=[30.0, 34.0]), seeds=[0, 1], params=dict(actor=1, critic=1))
    stale['git_rev'] = '0' * 40   # a commit this repository does not have: the section must say so
    write_record(report.results_dir(out, 'quick', 'span_offline'), stale)
    for method, scores, support in SPAR:
        write_record(report.results_dir(out, 'quick', 'spar'), make_record(
            'spar', f'hopper-medium-replay-{method}', 'quick', dict(env='hopper', kind='medium-replay', method=method),
            dict(final_score=scores, support_distance=support, updates=16_000), seeds=[0, 1], params={}, paper='SPAR'))
    for row in SPAARS: write_record(report.results_dir(out, 'quick', 'spaars'), _spaars_record(*row))
    nb = report.execute_notebook(report.repro_dir() / 'report.ipynb', out / 'report.ipynb',
                                 dict(runs_dir=str(out / 'runs'), scale='quick', seed=0))
    return report.render_html(nb, out / 'index.html').read_text()

def test_parameter_table_shows_the_recorded_counts(rendered):
    table2 = rendered[rendered.index('Table 2.'):rendered.index('Table 3.')]
    cells = re.findall(r'<td[^>]*>([^<]*)</td>', table2)
    for n in ('7,692', '1,104', '137,985', '7,680'): assert n in cells, n
    assert '68,992' not in cells and '3,840' not in cells   # not halved

def test_score_table_shows_the_recorded_seed_means(rendered):
    table1 = rendered[rendered.index('Table 1.'):rendered.index('Table 2.')]
    for text in ('51.0 +- 1.0', '42.0 +- 2.0', '21.0 +- 1.0', '11.0 +- 1.0'): assert text in table1, text

def test_sections_name_their_commits_and_flag_unknown_ones(rendered):
    assert re.search(r'8 run\(s\) from commit <code>[0-9a-f]{10}', rendered)
    assert 'unknown commit' in rendered and '0000000000' in rendered

def test_sections_plot_the_logged_losses_or_say_there_are_none(rendered):
    kan = rendered[rendered.index('KAN vs MLP in CQL'):rendered.index('SPAN offline: SPAN vs MLP in IQL')]
    assert 'Training losses' in kan
    offline = rendered[rendered.index('SPAN offline: SPAN vs MLP in IQL'):]
    assert 'These runs predate loss logging' in offline

def test_spar_table_shows_scores_support_and_the_papers_number(rendered):
    spar = rendered[rendered.index('SPAR: frozen BC plus a residual, against'):rendered.index('SPAARS: latent exploration')]
    cells = re.findall(r'<td[^>]*>([^<]*)</td>', spar)
    for text in ('81.0 +- 1.0 (0.110)', '31.0 +- 1.0 (0.050)', '62.0 +- 2.0 (0.310)', '101.9'): assert text in cells, text
    assert 'SPAR vs BC trained alone: P(better) 1.00; exact test over seeds' in spar   # the ledger row, from the same records
    assert 'too few seeds' in spar                          # two seeds on one dataset cannot decide, and the row says so
    assert 'pen-human' in spar and 'human demonstrations' in spar and '76.7' in spar   # the rows not run say why

def test_spaars_table_shows_offline_and_final_scores_hand_over_and_the_papers_number(rendered):
    sec = rendered[rendered.index('SPAARS: latent exploration'):rendered.index('Claims ledger')]
    cells = re.findall(r'<td[^>]*>([^<]*)</td>', sec)
    for text in ('41.0', '92.0 +- 2.0', '+51.0', '2,000, 3,000', 'never, never', '51.0', '71.0 +- 1.0', '92.7', '10,000 + 5,000'):
        assert text in cells, text
    assert 'SPAARS vs offline IQL: P(better) 1.00; exact test over seeds' in sec      # the ledger row, from the same records
    assert sec.count('<img') == 2                      # the score curves and the gate plot (the records log no losses)
