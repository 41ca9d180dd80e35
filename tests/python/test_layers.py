"""BitLinear and BitConv2d through the module against the reference's golden calls: outputs,
input gradients, quantizer state and statistics, and the parameter gradients of the last call
(the reference stored the earlier calls' parameter gradients by reference; see test_layers.cpp)."""
import numpy as np
import pytest

import chimera
from conftest import load_golden


def layer_options(p):
    return dict(mode=p["mode"], warmup_steps=p["warmup_steps"], alpha_override=p["alpha_override"],
                activation_grad="none" if p["grad_variant"] == "seed" else "ste")


def check_calls(layer, g):
    init = {"weight_master": g["init.weight_master"], "scale_ema": g["init.scale_ema"],
            "forward_step": g["init.forward_step"]}
    if "init.bias" in g:
        init["bias"] = g["init.bias"]
    layer.load_state_dict(init)
    for call in range(4):
        k = f"call{call}."
        layer.train(call < 3)
        y = layer.forward(g[k + "x"])
        grads = layer.backward(g[k + "grad_out"])
        np.testing.assert_allclose(y, g[k + "y"], rtol=1e-6, atol=0, err_msg=k + "y")
        np.testing.assert_allclose(grads["x"], g[k + "grad_x"], rtol=1e-5, atol=1e-6, err_msg=k + "grad_x")
        np.testing.assert_allclose(layer.scale_ema, g[k + "scale_ema_after"], rtol=1e-6, atol=0)
        assert layer.forward_step == g[k + "forward_step_after"]
        s = layer.stats()
        got = [s["gamma"], s["alpha"], s["zero_ratio"], s["plus_ratio"], s["minus_ratio"],
               s["effective_bits"]]
        np.testing.assert_allclose(got, g[k + "stats"], rtol=1e-7, atol=1e-12, err_msg=k + "stats")
        if call == 3:
            np.testing.assert_allclose(grads["weight_master"], g[k + "grad_weight"], rtol=1e-5, atol=1e-6)
            if "bias" in grads:
                np.testing.assert_allclose(grads["bias"], g[k + "grad_bias"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["bitlinear_chimera_seed", "bitlinear_chimera_ste",
                                  "bitlinear_strict_bitnet_seed", "bitlinear_strict_bitnet_ste"])
def test_bitlinear_matches_reference_calls(case):
    g, p = load_golden(case)
    layer = chimera.BitLinear(p["in_features"], p["out_features"], bias=p["bias"], **layer_options(p))
    check_calls(layer, g)


@pytest.mark.parametrize("case", ["bitconv3x3_chimera_seed", "bitconv3x3_chimera_ste",
                                  "bitconv3x3_strict_bitnet_seed", "bitconv3x3_strict_bitnet_ste",
                                  "bitconv1x1_chimera_override_seed", "bitconv1x1_chimera_override_ste"])
def test_bitconv2d_matches_reference_calls(case):
    g, p = load_golden(case)
    layer = chimera.BitConv2d(p["in_channels"], p["out_channels"], p["kernel_size"],
                              stride=p["stride"], padding=p["padding"], bias=p["bias"],
                              **layer_options(p))
    check_calls(layer, g)


def test_bias_gradient_is_the_sum_over_the_batch_and_the_output_moves_with_the_bias():
    layer = chimera.BitLinear(6, 3, bias=True, seed=3, warmup_steps=0)
    layer.eval()
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    y = layer.forward(x)
    grads = layer.backward(np.ones_like(y))
    assert np.array_equal(grads["bias"], np.full(3, 4.0, np.float32))
    layer.bias[1] += 0.5  # the bias is a view of the layer's parameter
    moved = layer.forward(x, record=False) - y
    np.testing.assert_allclose(moved[:, 1], 0.5, rtol=1e-5)
    assert np.array_equal(moved[:, [0, 2]], np.zeros((4, 2), np.float32))


def test_inference_forward_equals_the_recorded_forward_in_eval_mode():
    layer = chimera.BitConv2d(3, 8, 3, padding=1, seed=1)
    layer.eval()
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    assert np.array_equal(layer.forward(x, record=False), layer.forward(x))


def test_bad_shapes_and_options_are_exceptions():
    layer = chimera.BitLinear(4, 2)
    with pytest.raises(chimera.Error):
        layer.forward(np.ones((3, 5), np.float32))
    with pytest.raises(ValueError, match="no recorded forward"):
        layer.backward(np.ones((3, 2), np.float32))
    y = layer.forward(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="shape"):
        layer.backward(np.ones((2, 2), np.float32))
    assert y.shape == (3, 2)
    with pytest.raises(chimera.Error, match="mode|chimera"):
        chimera.BitLinear(4, 2, mode="binary")
    with pytest.raises(chimera.Error):
        chimera.BitLinear(4, 2, rho_s=2.0)
