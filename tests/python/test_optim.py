"""The optimizers through the module: every golden trajectory of the reference (parameters,
diagnostics, final state), NumPy parameters updated in place, and the errors."""
import numpy as np
import pytest

import chimera
from conftest import golden_names, load_golden

RTOL, ATOL = 1e-5, 1e-6


def make(name, kwargs, params):
    kwargs = dict(kwargs)
    if "betas" in kwargs:  # torch's spelling
        kwargs["beta1"], kwargs["beta2"] = kwargs.pop("betas")
    factory = {"chimera21": chimera.Chimera21, "adam": chimera.Adam, "adamw": chimera.AdamW,
               "sgd": chimera.SGD}[name]
    return factory(params, **kwargs)


CASES = golden_names("optimizer_")


def test_every_golden_case_is_listed():
    assert len(CASES) == 11


@pytest.mark.parametrize("case", CASES)
def test_matches_reference_trajectory(case):
    g, params = load_golden(case)
    steps, name = params["steps"], params["optimizer"]
    assert steps == 25
    a, b = g["p0.a"].copy(), g["p0.b"].copy()
    opt = make(name, params["kwargs"], [a, b])
    assert opt.name == name
    keys = params["diagnostic_keys"]
    assert ("diagnostics" in g) == bool(keys)
    for s in range(steps):
        opt.step([g["grads.a"][s], g["grads.b"][s]])
        np.testing.assert_allclose(a, g["expected.a"][s], rtol=RTOL, atol=ATOL, err_msg=f"a, step {s + 1}")
        np.testing.assert_allclose(b, g["expected.b"][s], rtol=RTOL, atol=ATOL, err_msg=f"b, step {s + 1}")
        if keys:
            d = opt.diagnostics()
            assert list(d)[: len(keys)] == keys or set(keys) <= set(d)
            got = [d[k] for k in keys]
            np.testing.assert_allclose(got, g["diagnostics"][s], rtol=RTOL, atol=ATOL)
    if name != "chimera21":
        return
    for index, p in enumerate(["a", "b"]):
        state = opt.state(index)
        assert state["step"] == steps
        np.testing.assert_allclose(state["m"], g[f"state.{p}.m"], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(state["v"], g[f"state.{p}.v"], rtol=RTOL, atol=ATOL)
        assert state["psi"].dtype == g[f"state.{p}.psi"].dtype
        if state["psi"].dtype == np.int8:
            assert np.array_equal(state["psi"], g[f"state.{p}.psi"])
        else:
            np.testing.assert_allclose(state["psi"], g[f"state.{p}.psi"], rtol=RTOL, atol=ATOL)


def test_state_memory_groups_skipped_parameters_and_state_dict_round_trip():
    p, q = np.ones(10, np.float32), np.ones((2, 3), np.float32)
    opt = chimera.Chimera21([{"params": [p], "lr": 0.1}, {"params": [q], "lr": 0.01}],
                            psi_storage="int8")
    assert opt.group_lrs() == [0.1, 0.01]
    opt.step([np.full(10, 0.5, np.float32), None])
    assert opt.state(1) is None and np.array_equal(q, np.ones((2, 3), np.float32))
    assert np.all(p < 1)
    assert opt.state_memory() == {"m": 40, "v": 40, "psi": 10, "other": 0, "total": 90}
    saved = opt.state_dict()
    twin_p = p.copy()
    twin = chimera.Chimera21([{"params": [twin_p], "lr": 0.1}, {"params": [q.copy()], "lr": 0.01}],
                             psi_storage="int8")
    twin.load_state_dict(saved)
    grad = np.linspace(-1, 1, 10).astype(np.float32)
    opt.step([grad, None])
    twin.step([grad, None])
    assert np.array_equal(p, twin_p)  # a loaded state continues bit-identically
    opt.set_group_lr(1, 0.5)
    assert opt.group_lrs() == [0.1, 0.5]
    opt.lr = 0.2
    assert opt.group_lrs() == [0.2, 0.2]


def test_bad_parameters_gradients_and_options_are_exceptions():
    with pytest.raises(TypeError, match="float32"):
        chimera.Adam([np.ones(3)])  # float64 cannot be updated in place as float32
    with pytest.raises(ValueError, match="contiguous"):
        chimera.SGD([np.ones((4, 4), np.float32)[:, 1]])
    ro = np.ones(3, np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        chimera.SGD([ro])
    p = np.ones(3, np.float32)
    opt = chimera.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.ones(4, np.float32)])
    with pytest.raises(ValueError, match="gradients"):
        opt.step([])
    with pytest.raises(TypeError, match="unknown option 'betas'"):
        chimera.Adam([p], betas=(0.9, 0.99))
    with pytest.raises(chimera.Error, match="beta1"):
        chimera.Chimera21([p], beta1=1.0)
    with pytest.raises(chimera.Error, match="zero_grad_policy|standard"):
        chimera.Chimera21([p], zero_grad_policy="sometimes")
    assert np.array_equal(p, np.ones(3, np.float32))  # nothing was stepped
