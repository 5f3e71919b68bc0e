"""Precision gates: per-group calibration, the gate a target precision sets, withheld groups,
weights standing for an error rate, and stages on a real store that emit only what passes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoknow_rdf.ml.gate import MIN_SUPPORT, OTHER, Gate, GroupGate, check_min_precision, expected_threshold
from autoknow_rdf.ml.calibration import Calibrator


def synthetic(n: int, seed: int, curve=lambda s: s ** 2):
    """Scores uniform in [0, 1], right with probability curve(score)."""
    rng = np.random.default_rng(seed)
    s = rng.random(n)
    return s, (rng.random(n) < curve(s)).astype(int)


def test_each_group_is_calibrated_on_its_own_and_rare_groups_are_pooled():
    s1, y1 = synthetic(3000, 0)
    s2, y2 = synthetic(3000, 1, curve=lambda s: 0.5 * s)
    s3, y3 = synthetic(30, 2)
    gate = Gate.fit(np.r_[s1, s2, s3], np.r_[y1, y2, y3], ["good"] * 3000 + ["poor"] * 3000 + ["rare"] * 30)
    assert set(gate.groups) == {"good", "poor", OTHER}
    grid = np.linspace(0.05, 0.95, 10)
    assert np.abs(gate.probability("good", grid) - grid ** 2).max() < 0.08
    assert np.abs(gate.probability("poor", grid) - 0.5 * grid).max() < 0.08
    assert gate.key("never seen") == OTHER  # an unseen group takes the pooled gate


def test_the_gate_keeps_its_precision_on_fresh_data_from_the_same_distribution():
    s, y = synthetic(4000, 3)
    gate = Gate.fit(s, y, ["g"] * len(s))
    t = gate.threshold("g", 0.9)
    assert t is not None
    fresh_s, fresh_y = synthetic(20000, 4)
    kept = gate.probability("g", fresh_s) >= t
    assert fresh_y[kept].mean() >= 0.87  # 0.9 on held-in data, a little sampling slack on new data
    assert gate.threshold("g", 0.5) < t  # a lower target keeps more


def test_a_group_that_cannot_reach_the_target_is_withheld():
    s, y = synthetic(2000, 5, curve=lambda s: 0.6 * s)  # never above 60% right
    gate = Gate.fit(s, y, ["weak"] * len(s))
    assert gate.threshold("weak", 0.9) is None
    row = gate.table(0.9)[0]
    assert row["decision"] == "withheld" and row["best held-in precision"] < 0.9
    assert gate.groups["weak"].ece is not None and gate.groups["weak"].ece < 0.1


def test_a_gate_needs_support_a_few_lucky_facts_do_not_open_it():
    s = np.r_[np.linspace(0.99, 0.95, 5), np.linspace(0.9, 0.0, 200)]
    y = np.r_[np.ones(5), np.zeros(200)]  # five right at the top, nothing right below
    gate = Gate.fit(s, y, ["g"] * len(s))
    assert gate.threshold("g", 0.9) is None
    assert gate.threshold("g", 0.9, min_support=5) is not None


def test_weights_stand_for_an_error_rate():
    """Planted wrong values at 75% of the held-in set, weighted down to 10%: the precision of
    quarantines falls, as it does in a catalogue where most values are right."""
    rng = np.random.default_rng(6)
    y = np.r_[np.ones(1500), np.zeros(500)].astype(int)  # 1: the value is wrong (a right quarantine)
    s = np.where(y == 1, rng.normal(0.7, 0.15, len(y)), rng.normal(0.4, 0.15, len(y)))
    plain = Gate.fit(s, y, ["brand"] * len(y))
    weighted = Gate.fit(s, y, ["brand"] * len(y), weights=np.where(y == 1, 0.1 / 0.9 * 500 / 1500, 1.0))
    kept_plain = plain.groups["brand"].at(plain.threshold("brand", 0.9))["kept"]
    kept_weighted = weighted.groups["brand"].at(weighted.threshold("brand", 0.9))["kept"]
    assert kept_weighted < 0.7 * kept_plain  # at a realistic error rate, fewer quarantines reach 0.9


def test_round_trip_through_json():
    import json

    s, y = synthetic(500, 7)
    gate = Gate.fit(s, y, ["a"] * 250 + ["b"] * 250)
    back = Gate.from_json(json.loads(json.dumps(gate.to_json())))
    assert back.threshold("a", 0.8) == pytest.approx(gate.threshold("a", 0.8), abs=1e-4)
    assert np.allclose(back.probability("b", [0.2, 0.7]), gate.probability("b", [0.2, 0.7]))


def test_a_run_whose_candidates_crowd_above_the_gate_raises_it_to_keep_the_expected_precision():
    """Held-in facts mostly confident, a run's candidates mostly just above the held-in gate: the
    run's gate rises until the mean calibrated probability of what passes reaches the target."""
    identity = Calibrator("isotonic", [0.0, 1.0], [0.0, 1.0])  # scores are probabilities
    held = np.r_[np.full(900, 0.98), np.full(100, 0.6)]
    right = np.r_[np.ones(882), np.zeros(18), np.ones(60), np.zeros(40)]
    gate = Gate({"g": GroupGate(identity, held.tolist(), right.astype(int).tolist(), [1.0] * len(held))})
    assert gate.threshold("g", 0.9) == 0.6  # on held-in data, 0.6 and up are right 94% of the time
    crowd = np.r_[np.full(900, 0.6), np.full(100, 0.99)]  # a run's candidates, mostly at 0.6
    p, ok, runs = gate.apply(["g"] * len(crowd), crowd, 0.9)
    assert runs["g"]["run gate"] == pytest.approx(0.99) and runs["g"]["expected precision"] >= 0.9
    assert ok.sum() == 100
    assert expected_threshold([0.95, 0.95, 0.5], 0.9) == 0.95


@pytest.mark.parametrize("bad", [0, -0.1, 1.5])
def test_a_minimum_precision_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        check_min_precision(bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=MIN_SUPPORT, max_size=200),
       st.floats(0.3, 1.0))
def test_the_gate_keeps_its_promise_on_the_data_it_was_drawn_on(pairs, target):
    s = np.array([p for p, _ in pairs])
    y = np.array([r for _, r in pairs]).astype(int)
    gate = Gate.fit(s, y, ["g"] * len(s))
    t = gate.threshold("g", target)
    if t is not None:
        kept = gate.probability("g", s) >= t
        assert kept.sum() >= MIN_SUPPORT and y[kept].mean() >= target - 1e-9


# ---- stages on a real store (the cut), at their gates ---------------------------------------

def test_a_stage_whose_gate_cannot_be_reached_emits_nothing_and_says_why(cut_models, store):
    """The imputation model trained on the cut, its gates replaced by ones fitted on held-in
    values that were all wrong: it emits no value, and the table says each attribute is withheld."""
    from autoknow_rdf.stages.imputation.stage import ImputationStage

    models, _ = cut_models
    stage = ImputationStage.open(models / "imputation")
    inputs = stage.read(store)
    stage.min_precision = 0.5
    assert stage.predict(inputs), "the trained model emits values at a 0.5 gate (else this test proves nothing)"
    groups = list(stage.gate_.groups)
    stage.gate_ = Gate.fit(np.linspace(0, 1, 100 * len(groups)), np.zeros(100 * len(groups)), groups * 100, min_group=1)
    stage.runs_ = {}  # count this run only
    assert stage.predict(inputs) == []
    rows = stage.gate_table()
    assert rows and all(r["decision"] == "withheld" and r["facts emitted"] == 0 for r in rows)
    assert sum(r["facts withheld"] for r in rows) > 0


def test_min_precision_is_part_of_the_run_and_its_provenance(cut_models, store):
    from pyoxigraph import Literal

    from autoknow_rdf.pipeline import run_stage
    from autoknow_rdf.vocab import AK, PROVENANCE_GRAPH

    models, _ = cut_models
    strict = run_stage(store, "relations", models, min_precision=0.99)
    loose = run_stage(store, "relations", models, min_precision=0.6)
    assert strict.run_id != loose.run_id and strict.facts <= loose.facts
    recorded = {q.object for q in store.store.quads_for_pattern(None, AK.minPrecision, None, PROVENANCE_GRAPH)}
    assert {Literal(0.99), Literal(0.6)} <= recorded
    loose_gates = {g["group"]: g["gate"] for g in loose.gates}
    for g in strict.gates:  # a stricter target never lowers a gate
        assert g["gate"] is None or loose_gates[g["group"]] is None or g["gate"] >= loose_gates[g["group"]]


def test_a_min_precision_outside_0_1_is_a_usage_error(cut_models, tmp_path):
    from click.testing import CliRunner

    from autoknow_rdf.cli import cli

    out = CliRunner().invoke(cli, ["run", "relations", "--store", str(tmp_path / "kg"), "--models", str(cut_models[0]),
                                   "--min-precision", "1.5"])
    assert out.exit_code == 2 and "min-precision" in out.output
    assert not (tmp_path / "kg").exists()  # refused before anything was opened or written


def test_a_model_saved_before_gates_existed_is_refused_with_a_retrain_message(cut_models, tmp_path):
    import shutil

    from autoknow_rdf.errors import ModelError
    from autoknow_rdf.ml.persistence import MANIFEST, seal
    from autoknow_rdf.stages.relations.stage import RelationsStage

    folder = tmp_path / "relations"
    shutil.copytree(cut_models[0] / "relations", folder)
    (folder / "gate.json").unlink()
    (folder / MANIFEST).unlink()
    seal(folder, RelationsStage.model_name, RelationsStage.model_version)  # a consistent folder, only without gates
    with pytest.raises(ModelError, match="train relations"):
        RelationsStage.open(folder)


def test_a_gate_at_a_confidence_asks_the_lower_bound_of_its_held_in_precision_to_pass():
    """On few held-in facts the lowest passing gate is where they happened to look best: with a
    confidence, the one-sided Wilson bound must reach the target, so the gate is higher, and on
    fresh data from the same distribution what it keeps is at least as precise."""
    s, y = synthetic(300, 5)
    point = Gate.fit(s, y, ["g"] * len(s))
    bounded = Gate.fit(s, y, ["g"] * len(s), confidence=0.9)
    t0, t1 = point.threshold("g", 0.85), bounded.threshold("g", 0.85)
    assert t0 is not None and (t1 is None or t1 > t0)
    assert bounded.groups["g"].best_precision() < point.groups["g"].best_precision()
    fresh_s, fresh_y = synthetic(50000, 6)
    if t1 is not None:
        p0 = fresh_y[point.probability("g", fresh_s) >= t0].mean()
        p1 = fresh_y[bounded.probability("g", fresh_s) >= t1].mean()
        assert p1 >= p0 - 0.01
    again = Gate.from_json(bounded.to_json())
    assert again.groups["g"].confidence == 0.9 and again.threshold("g", 0.85) == pytest.approx(t1, abs=1e-4)
