"""The quantizers and the controller through the module against the reference's golden files
(bit-exact, as the C++ tests), and their errors as Python exceptions."""
import numpy as np
import pytest

import chimera
from conftest import load_golden


def stats_row(s):
    return [s["zero_ratio"], s["plus_ratio"], s["minus_ratio"], s["effective_bits"]]


def test_strict_and_threshold_match_golden_bit_for_bit():
    g, _ = load_golden("quantize")
    U, gammas, alphas = g["U"], g["gammas"], g["alphas"]
    assert gammas.shape == (3,) and alphas.shape == (4,)
    for i, gamma in enumerate(gammas):
        key = f"strict.g{i}"
        q = chimera.quantize_strict(U, float(gamma))
        assert q.dtype == np.float32
        assert np.array_equal(q.view(np.uint32), g[key].view(np.uint32))  # signed zeros too
        codes = chimera.quantize_strict(U, float(gamma), codes=True)
        assert codes.dtype == np.int8 and np.array_equal(codes, g[key])
        np.testing.assert_allclose(stats_row(chimera.ternary_stats(q)), g[key + ".stats"], atol=1e-12)
        for j, alpha in enumerate(alphas):
            key = f"chimera.g{i}.a{j}"
            q = chimera.quantize_threshold(U, float(gamma), float(alpha))
            assert np.array_equal(q.view(np.uint32), g[key].view(np.uint32))
            codes = chimera.quantize_threshold(U, float(gamma), float(alpha), codes=True)
            assert np.array_equal(codes, g[key])
            np.testing.assert_allclose(stats_row(chimera.ternary_stats(codes)), g[key + ".stats"],
                                       atol=1e-12)


def test_entropy_abs_stat_and_target_zero_ratio_match_golden():
    g, params = load_golden("quantize")
    for ratios, bits in zip(g["entropy.ratios"], g["entropy.bits"]):
        assert chimera.entropy_from_ratios(*map(float, ratios)) == pytest.approx(bits, abs=1e-12)
    assert np.float32(chimera.abs_stat(g["U"])) == g["abs_mean"]
    assert np.float32(chimera.abs_stat(g["U"], mode="median")) == g["abs_median"]
    for bits, branch, z in zip(g["target_bits"], params["target_branches"], g["target_zero_ratio"]):
        assert chimera.zero_ratio_for_entropy(float(bits), branch) == pytest.approx(z, abs=1e-12)


def test_controller_matches_golden_alpha_sequence():
    g, p = load_golden("controller")
    c = chimera.TargetBitsController(target_bits=p["target_bits"], branch=p["branch"],
                                     tolerance=p["tolerance"], step_size=p["step_size"],
                                     alpha_min=p["alpha_min"], alpha_max=p["alpha_max"])
    assert c.target_zero_ratio == pytest.approx(float(g["target_zero_ratio"]), abs=1e-12)
    assert len(g["expected_alpha"]) == 13
    for (alpha, zero), want in zip(g["inputs_alpha_zero"], g["expected_alpha"]):
        assert c.update(float(alpha), float(zero)) == want


def test_inputs_of_any_layout_are_taken_and_results_are_arrays():
    U = np.arange(-6, 6, dtype=np.float64).reshape(3, 4)[:, ::2]  # float64, not contiguous
    q = chimera.quantize_strict(U, 2.0)
    assert q.shape == (3, 2)
    assert np.array_equal(q, np.clip(np.round(U.astype(np.float32) / 2.0), -1, 1))


def test_errors_are_exceptions_with_the_engines_message():
    U = np.ones((2, 2), np.float32)
    with pytest.raises(chimera.Error, match="alpha"):
        chimera.quantize_threshold(U, 1.0, -0.5)
    with pytest.raises(chimera.Error, match="sparse"):
        chimera.zero_ratio_for_entropy(1.3, "diagonal")
    with pytest.raises(chimera.Error):
        chimera.entropy_from_ratios(0.5, 0.5, 0.5)
    with pytest.raises(chimera.Error, match="alpha_max"):
        chimera.TargetBitsController(alpha_min=1.0, alpha_max=0.5)
    with pytest.raises(TypeError):
        chimera.quantize_strict("not an array", 1.0)
    assert issubclass(chimera.Error, RuntimeError)


def test_thread_count_is_the_engines_and_a_bad_one_is_an_error():
    before = chimera.threads()
    chimera.set_threads(1)
    assert chimera.threads() == 1
    with pytest.raises(chimera.Error):
        chimera.set_threads(0)
    chimera.set_threads(before)
    assert chimera.threads() == before
