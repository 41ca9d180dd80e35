"""chimera.torch: our Chimera21 as a torch.optim.Optimizer reproduces the reference's golden
trajectories from a plain PyTorch loop. scripts/setup.sh installs Debian's python3-torch, so a
missing PyTorch fails here rather than skipping."""
import numpy as np
import pytest
import torch

import chimera.torch as ct
from conftest import golden_names, load_golden

CASES = [c for c in golden_names("optimizer_chimera21")]


def test_all_chimera21_cases_are_covered():
    assert len(CASES) == 8


@pytest.mark.parametrize("case", CASES)
def test_torch_loop_with_chimera21_matches_golden(case):
    g, params = load_golden(case)
    a = torch.nn.Parameter(torch.from_numpy(g["p0.a"].copy()))
    b = torch.nn.Parameter(torch.from_numpy(g["p0.b"].copy()))
    opt = ct.Chimera21([a, b], **params["kwargs"])
    assert isinstance(opt, torch.optim.Optimizer)
    for s in range(params["steps"]):
        opt.zero_grad()
        a.grad = torch.from_numpy(g["grads.a"][s].copy())
        b.grad = torch.from_numpy(g["grads.b"][s].copy())
        opt.step()
        np.testing.assert_allclose(a.detach().numpy(), g["expected.a"][s], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.detach().numpy(), g["expected.b"][s], rtol=1e-5, atol=1e-6)
    assert opt.engine().state(0)["step"] == params["steps"]


def test_a_real_loop_with_backward_and_a_scheduler():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    opt = ct.Chimera21(model.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.1)
    x, y = torch.randn(32, 4), torch.randn(32, 2)
    first = None
    for _ in range(20):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first
    assert opt.engine().group_lrs() == pytest.approx([0.05 * 0.1 ** 3])


def test_tensors_it_cannot_update_in_place_are_refused():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    p.grad = torch.ones(3, dtype=torch.float64)
    with pytest.raises(TypeError, match="float32"):
        ct.Chimera21([p]).step()
