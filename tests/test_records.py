"Atomic result records."
import json
import os
import pytest

from spanrl import records
from spanrl.records import atomic_write_json, load_records, make_record, read_record, write_record

def test_round_trip_and_provenance(tmp_path):
    rec = make_record('exp', 'r1', 'quick', {'a': 1}, {'score': 2.0}, seeds=[0, 1], wall_clock_s=1.5)
    p = write_record(tmp_path, rec)
    back = read_record(p)
    assert back['metrics'] == {'score': 2.0} and back['scale'] == 'quick' and back['seeds'] == [0, 1]
    assert back['versions']['torch'] and back['created']
    df = load_records(tmp_path)
    assert list(df.run_id) == ['r1']

def test_interrupted_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / 'r.json'
    atomic_write_json(target, {'v': 1})
    def crash(*a, **k): raise KeyboardInterrupt  # Ctrl-C between writing the temp file and renaming it
    monkeypatch.setattr(records.os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(target, {'v': 2})
    assert json.loads(target.read_text()) == {'v': 1}
    assert [p.name for p in tmp_path.iterdir()] == ['r.json']

def test_corrupt_record_is_named(tmp_path):
    p = tmp_path / 'exp' / 'r.json'
    p.parent.mkdir()
    p.write_text('{"experiment": "exp", "run_id"')
    with pytest.raises(ValueError, match=r"r\.json is corrupt.*re-run"):
        load_records(tmp_path)

def test_bad_scale_is_refused():
    with pytest.raises(ValueError, match="unknown scale 'medium'; choose one of smoke, quick, paper"):
        make_record('e', 'r', 'medium', {}, {})
