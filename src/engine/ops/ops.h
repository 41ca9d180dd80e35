// Every differentiable op of the engine, in one list. Each op's forward and backward live
// side by side in the file named in its comment; shapes are given as [dims].
#pragma once

#include <functional>

#include <vector>

#include <optional>

#include "engine/autograd.h"
#include "engine/kernels/conv_geometry.h"

namespace chimera {

// ---- elementwise.cpp: same shapes, or b with one element broadcast over a ----
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var pow(const Var& a, double exponent);
Var scale(const Var& a, double s);  // a * s
Var add_scalar(const Var& a, double s);

// ---- activation.cpp ----
Var relu(const Var& x);
Var tanh(const Var& x);
Var relu_squared(const Var& x);              // relu(x)^2 (BitNet b1.58 2B4T's feed-forward)
Var swiglu(const Var& gate, const Var& up);  // silu(gate) * up, silu(x) = x / (1 + exp(-x))

// ---- reduce.cpp: results are 0-d ----
Var sum(const Var& x);
Var mean(const Var& x);

// ---- linear.cpp ----
Var matmul(const Var& a, const Var& b);  // [M, K] x [K, N] -> [M, N]
// x [N, in], w [out, in], b [out] (optional) -> [N, out]
Var linear(const Var& x, const Var& w, const std::optional<Var>& b = std::nullopt);

// ---- conv2d.cpp: x [N, C_in, H, W], w [C_out, C_in/groups, kh, kw], b [C_out] (optional) ----
Var conv2d(const Var& x, const Var& w, const std::optional<Var>& b, const Conv2dParams& p);

// ---- batchnorm2d.cpp: x [N, C, H, W]; weight, bias [C]; running stats [C], f32 ----
// Training: normalise with batch mean and biased variance; running_mean/var move by momentum
// (running_var with the unbiased variance) and num_batches_tracked (0-d i64) counts up.
// Evaluation: normalise with the running statistics, which stay as they are.
struct BatchNormState {
  Tensor running_mean, running_var, num_batches_tracked;
  // Synchronised batch normalisation (data parallelism, set by the trainer): when set, training
  // normalises with the statistics of every process's batch together. sum_stats adds per-channel
  // sums (the values, then the squared deviations, each with the count last) over the
  // processes, in place; sum_grads does the same for the backward's sums of the gradient and
  // of gradient * xhat, each process weighted by its share of the global loss and the result
  // rescaled to this process's loss. Unset: this batch alone.
  std::function<void(double* sums, int64_t n)> sum_stats = nullptr, sum_grads = nullptr;
};
Var batch_norm2d(const Var& x, const Var& weight, const Var& bias, BatchNormState& state,
                 bool training, double momentum = 0.1, double eps = 1e-5);
// relu(batch_norm2d(x) + residual) (residual null: relu(batch_norm2d(x))) as one op, bit for bit
// the three ops one after another, with one pass over memory instead of three.
Var batch_norm2d_relu(const Var& x, const Var& weight, const Var& bias, BatchNormState& state,
                      bool training, const Var* residual, double momentum = 0.1,
                      double eps = 1e-5);
// Evaluation as y = fma(x, mul[c], add[c]) per channel: the values batch_norm2d uses, for a
// kernel that applies them in its epilogue (int_epilogue.h).
void batch_norm2d_eval_affine(const Tensor& weight, const Tensor& bias,
                              const BatchNormState& state, double eps, std::vector<float>& mul,
                              std::vector<float>& add);

// ---- shape.cpp ----
Var reshape(const Var& x, Shape shape);
Var flatten(const Var& x);                // [N, ...] -> [N, prod(...)]
Var global_avg_pool2d(const Var& x);      // [N, C, H, W] -> [N, C]

// ---- embedding.cpp: weight [V, D], ids i64 of any shape S with values in [0, V) -> S + [D] ----
Var embedding(const Var& weight, const Tensor& ids);

// ---- rms_norm.cpp: over the last axis; weight [D] ----
// y = (x * rsqrt(mean(x^2) + eps)) * weight, each step in float as torch computes it
Var rms_norm(const Var& x, const Var& weight, double eps);

// ---- rotary.cpp: x [B, T, H, hd], hd even; position of x[:, t] is first_position + t ----
// Adjacent pairs (x[2i], x[2i+1]) turn by angle position * theta^(-2i / hd) (the layout GGML's
// LLaMA models use).
Var rotary(const Var& x, int64_t first_position, double theta);

// ---- attention.cpp: causal attention (kernels/attention_f32.h for the layouts) ----
// q [B, Tq, H, hd], k and v [B, Tk, G, hd] with H a multiple of G and Tq <= Tk -> [B, Tq, H, hd],
// scaled by 1 / sqrt(hd)
Var causal_attention(const Var& q, const Var& k, const Var& v);

// ---- loss.cpp: mean over the batch / over all elements, 0-d results ----
Var cross_entropy(const Var& logits, const Tensor& labels);  // logits [N, C], labels [N] i64
Var mse_loss(const Var& pred, const Tensor& target);          // same shapes

}  // namespace chimera
