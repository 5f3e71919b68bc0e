"""Calibration recovers known probabilities; thresholds pick the operating points they promise."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from autoknow_rdf.ml.calibration import Calibrator, expected_calibration_error
from autoknow_rdf.ml.metrics import at_threshold, precision_threshold


def synthetic(n: int, seed: int):
    """Raw scores whose true P(right) is score squared: overconfident, as raw softmax scores are."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0, 1, n)
    return s, rng.uniform(0, 1, n) < s ** 2


def test_isotonic_calibration_recovers_known_probabilities():
    s, y = synthetic(20000, 0)
    cal = Calibrator.fit(s, y)
    assert cal.method == "isotonic"
    grid = np.linspace(0.05, 0.95, 19)
    assert np.max(np.abs(cal(grid) - grid ** 2)) < 0.06
    test_s, test_y = synthetic(20000, 1)
    assert expected_calibration_error(test_s, test_y) > 0.1  # the raw score is far off
    assert expected_calibration_error(cal(test_s), test_y) < 0.02


def test_platt_on_few_labels_and_a_round_trip_through_json():
    s, y = synthetic(150, 2)
    cal = Calibrator.fit(s, y)
    assert cal.method == "platt" and 0.0 < cal(0.05)[()] < cal(0.95)[()] < 1.0
    again = Calibrator.from_json(cal.to_json())
    assert np.allclose(again(s), cal(s))
    assert Calibrator.fit([0.2, 0.9], [True, True])(0.1) > 0.9  # one class: its rate, whatever the score


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60), st.floats(0.5, 1.0))
def test_a_precision_threshold_keeps_its_promise_on_the_data_it_was_picked_on(pairs, target):
    s = np.array([p for p, _ in pairs])
    y = np.array([r for _, r in pairs])
    t = precision_threshold(y, s, target)
    accepted = s >= t
    if accepted.any():
        assert at_threshold(y, s, t)["precision"] >= target - 1e-12
    lower = s[s < t]
    if lower.size:  # no lower threshold keeps the promise
        assert all(at_threshold(y, s, u)["precision"] < target for u in lower)
