#!/usr/bin/env python3
"""PyTorch twin of Chimera's TransformerLM, for the llm.c-style check of the C++ model.

Builds the same tiny decoder (token embedding; blocks of RMSNorm -> causal attention with
rotary positions on adjacent pairs and optional grouped key/value heads -> residual, RMSNorm ->
SwiGLU or ReLU^2 feed-forward -> residual; final RMSNorm; float output head), with the
projections float (fp32_baseline) or ternary BitLinear fake-quantized exactly as SPEC section 2
says (per-token int8 activations, straight-through gradients, chimera threshold or strict
rounding, scale_ema updated before the quantizer in training). One training-mode forward and
backward on a fixed batch; the initial state, the batch, the logits, the loss and every
parameter gradient go into tests/data/lm_<case>.safetensors (written by hand below: Debian has
no python3-safetensors). The C++ test tests/test_transformer_lm.cpp reads them; CI never runs
this script.

    apt-get install -y python3-torch
    python3 tests/lm_reference/make_lm_dump.py
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data")


class BitLinear(nn.Module):
    def __init__(self, fan_in, fan_out, cfg):
        super().__init__()
        self.weight_master = nn.Parameter(torch.empty(fan_out, fan_in))
        nn.init.kaiming_uniform_(self.weight_master, a=5 ** 0.5)
        self.register_buffer("scale_ema", self.weight_master.detach().abs().mean().clone())
        self.register_buffer("forward_step", torch.zeros((), dtype=torch.int64))
        self.mode = cfg["mode"]
        self.alpha = cfg["alpha_target"]  # warmup_steps = 0: alpha_target from the start

    def forward(self, x):
        beta = x.detach().abs().amax(dim=-1, keepdim=True).div(127.0).add(1e-6)  # per token
        xs = x / beta
        xq = torch.clamp(torch.round(xs), -127, 127)
        xq = xs + (xq - xs).detach()
        if self.training:
            with torch.no_grad():
                self.scale_ema.mul_(0.95).add_(self.weight_master.detach().abs().mean(), alpha=0.05)
        gamma = self.scale_ema.clamp_min(1e-6)
        w = self.weight_master
        if self.mode == "strict_bitnet":
            q = torch.clamp(torch.round(w / gamma), -1, 1)
        else:
            q = torch.sign(w) * (w.abs() > self.alpha * gamma).to(w.dtype)
        wq = torch.clamp(w + (q - w).detach(), -1.0, 1.0)
        y = xq @ wq.t()
        if self.training:
            with torch.no_grad():
                self.forward_step.add_(1)
        return (beta * gamma) * y


def projection(fan_in, fan_out, cfg):
    if cfg["mode"] == "fp32_baseline":
        return nn.Linear(fan_in, fan_out, bias=False)
    return BitLinear(fan_in, fan_out, cfg)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary(x, theta):  # x [B, T, H, hd], adjacent pairs
    T, hd = x.shape[1], x.shape[3]
    i = torch.arange(hd // 2, dtype=torch.float64)
    freq = theta ** (-2.0 * i / hd)
    angle = torch.arange(T, dtype=torch.float64)[:, None] * freq[None, :]
    cos = torch.cos(angle).to(torch.float32)[None, :, None, :]
    sin = torch.sin(angle).to(torch.float32)[None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack([y0, y1], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h, g = cfg["dim"], cfg["heads"], cfg["kv_heads"]
        hd = d // h
        self.h, self.g, self.hd, self.theta = h, g, hd, cfg["rope_theta"]
        self.wq = projection(d, h * hd, cfg)
        self.wk = projection(d, g * hd, cfg)
        self.wv = projection(d, g * hd, cfg)
        self.wo = projection(h * hd, d, cfg)

    def forward(self, x):
        B, T, D = x.shape
        rows = x.reshape(B * T, D)
        q = rotary(self.wq(rows).reshape(B, T, self.h, self.hd), self.theta)
        k = rotary(self.wk(rows).reshape(B, T, self.g, self.hd), self.theta)
        v = self.wv(rows).reshape(B, T, self.g, self.hd)
        rep = self.h // self.g
        k = k.repeat_interleave(rep, dim=2)
        v = v.repeat_interleave(rep, dim=2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, H, T, hd]
        s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        s = s.masked_fill(mask, float("-inf"))
        o = torch.softmax(s, dim=-1) @ v
        o = o.transpose(1, 2).reshape(B * T, self.h * self.hd)
        return self.wo(o).reshape(B, T, D)


class FeedForward(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.kind = cfg["feed_forward"]
        self.w1 = projection(cfg["dim"], cfg["ffn_dim"], cfg)
        self.w2 = projection(cfg["ffn_dim"], cfg["dim"], cfg)
        if self.kind == "swiglu":
            self.w3 = projection(cfg["dim"], cfg["ffn_dim"], cfg)

    def forward(self, x):
        if self.kind == "swiglu":
            return self.w2(F.silu(self.w1(x)) * self.w3(x))
        return self.w2(torch.relu(self.w1(x)) ** 2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention_norm = RMSNorm(cfg["dim"], cfg["norm_eps"])
        self.attention = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg["dim"], cfg["norm_eps"])
        self.feed_forward = FeedForward(cfg)

    def forward(self, x):
        h = x + self.attention(self.attention_norm(x))
        B, T, D = h.shape
        return h + self.feed_forward(self.ffn_norm(h).reshape(B * T, D)).reshape(B, T, D)


class LM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok_embeddings = nn.Embedding(cfg["vocab_size"], cfg["dim"])
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg["layers"]))
        self.norm = RMSNorm(cfg["dim"], cfg["norm_eps"])
        self.output = nn.Linear(cfg["dim"], cfg["vocab_size"], bias=False)

    def forward(self, ids):
        x = self.tok_embeddings(ids)
        for block in self.layers:
            x = block(x)
        B, T, D = x.shape
        return self.output(self.norm(x).reshape(B * T, D))


def write_safetensors(path, tensors, metadata):
    kinds = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": kinds[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    os.replace(path + ".tmp", path)


CASES = {
    "fp32_swiglu_gqa": dict(mode="fp32_baseline", feed_forward="swiglu", heads=4, kv_heads=2),
    "chimera_swiglu_gqa": dict(mode="chimera", feed_forward="swiglu", heads=4, kv_heads=2),
    "strict_relu2": dict(mode="strict_bitnet", feed_forward="relu2", heads=2, kv_heads=2),
}


def main():
    torch.set_num_threads(1)
    for seed, (name, case) in enumerate(sorted(CASES.items())):
        cfg = dict(vocab_size=29, dim=16, layers=2, ffn_dim=24, context=8, rope_theta=10000.0,
                   norm_eps=1e-5, alpha_target=0.7, activation_scale="token", warmup_steps=0)
        cfg.update(case)
        torch.manual_seed(100 + seed)
        model = LM(cfg)
        model.train()
        init = {f"init.{k}": v.clone() for k, v in model.state_dict().items()}
        tokens = torch.randint(0, cfg["vocab_size"], (2, cfg["context"] + 1))
        ids, targets = tokens[:, :-1], tokens[:, 1:].reshape(-1)
        logits = model(ids)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        out = dict(init)
        out["ids"] = ids
        out["targets"] = targets
        out["logits"] = logits
        out["loss"] = loss.reshape(())
        for k, p in model.named_parameters():
            out[f"grad.{k}"] = p.grad
        for k, v in model.state_dict().items():
            out[f"after.{k}"] = v
        path = os.path.join(OUT, f"lm_{name}.safetensors")
        write_safetensors(path, out, {"config": json.dumps(cfg), "torch": torch.__version__})
        print(f"{path}: loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
