"""chimera.torch: Chimera's optimizers as torch.optim.Optimizer, for PyTorch training loops.

    from chimera.torch import Chimera21
    opt = Chimera21(model.parameters(), lr=1e-3)   # instead of torch.optim.Adam(...)

The update runs in the C++ engine on the parameters' own memory (CPU float32 tensors), with
the same float32 operations as `chimera` and the reference, so a loop's trajectory matches the
golden files. Learning-rate schedulers work: each step reads every group's lr.
"""
import torch as _torch

from . import _chimera


def _array(t, what):
    if t.device.type != "cpu" or t.dtype != _torch.float32:
        raise TypeError(f"{what}: chimera.torch optimizers take CPU float32 tensors, got "
                        f"{t.dtype} on {t.device}")
    if not t.is_contiguous():
        raise ValueError(f"{what}: the tensor is not contiguous")
    return t.detach().numpy()


class _EngineOptimizer(_torch.optim.Optimizer):
    """A torch.optim.Optimizer whose step is one of the engine's (built at the first step)."""

    _factory = None  # the chimera._chimera constructor
    _group_keys = ("lr", "weight_decay")

    def __init__(self, params, **options):
        defaults = {"lr": options.get("lr", 1e-3)}
        if "weight_decay" in options:
            defaults["weight_decay"] = options["weight_decay"]
        super().__init__(params, defaults)
        self._options = options
        self._engine = None
        self._params = [p for g in self.param_groups for p in g["params"]]

    def _build(self):
        groups = []
        for g in self.param_groups:
            group = {"params": [_array(p.data, "parameter") for p in g["params"]], "lr": g["lr"]}
            if "weight_decay" in g:
                group["weight_decay"] = g["weight_decay"]
            groups.append(group)
        self._engine = type(self)._factory(groups, **self._options)
        self._data_ptrs = [p.data.data_ptr() for p in self._params]

    @_torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with _torch.enable_grad():
                loss = closure()
        if self._engine is None:
            self._build()
        if [p.data.data_ptr() for p in self._params] != self._data_ptrs:
            raise RuntimeError("a parameter's storage was replaced (p.data = ...); the engine "
                               "updates the memory it was given: create the optimizer again")
        for i, g in enumerate(self.param_groups):
            self._engine.set_group_lr(i, g["lr"])
        grads = [None if p.grad is None else _array(p.grad, "gradient") for p in self._params]
        self._engine.step(grads)
        return loss

    def engine(self):
        """The chimera.Optimizer underneath (state(i), state_memory(), diagnostics())."""
        if self._engine is None:
            self._build()
        return self._engine


class Chimera21(_EngineOptimizer):
    """Chimera21 (every option of chimera.Chimera21) as a torch optimizer."""
    _factory = staticmethod(_chimera.Chimera21)


class Adam(_EngineOptimizer):
    """The engine's Adam as a torch optimizer."""
    _factory = staticmethod(_chimera.Adam)


class AdamW(_EngineOptimizer):
    """The engine's AdamW as a torch optimizer."""
    _factory = staticmethod(_chimera.AdamW)


class SGD(_EngineOptimizer):
    """The engine's SGD as a torch optimizer."""
    _factory = staticmethod(_chimera.SGD)
