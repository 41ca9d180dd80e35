// 2-D batch normalisation (SPEC §4), matching torch.nn.BatchNorm2d.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels/elementwise_f32.h"
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {
namespace {

void check_channel_tensor(const char* name, const Tensor& t, int64_t channels) {
  CHIMERA_CHECK(t.defined() && t.shape() == Shape{channels} && t.dtype() == DType::f32,
                "batch_norm2d: expected ", name, " f32 [", channels, "], got ",
                t.defined() ? dtype_name(t.dtype()) : "undefined", " ",
                t.defined() ? shape_str(t.shape()) : "");
}

// Runs f(i, ch) on every [H, W] plane, each channel seeing its samples in order. The channels
// are split over the threads and each thread goes through the samples in the outer loop, so
// memory is read front to back (far faster than a channel's planes one after another).
template <class F>
void for_planes_by_channel(int64_t n, int64_t c, int64_t plane, F f) {
  const int64_t blocks = std::min<int64_t>(c, num_threads());
  parallel_for(blocks, n * c * plane / blocks, [&](int64_t b) {
    const int64_t c0 = b * c / blocks, c1 = (b + 1) * c / blocks;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = c0; ch < c1; ++ch) f(i, ch);
  });
}

// Per-channel statistics as torch's CPU kernel keeps them: the mean is the double sum over N
// rounded to float, and the variance sum adds float squares (x - mean)^2 in double, then is
// rounded to float. Quantized networks amplify one-ulp differences here (a BatchNorm output
// that is exactly zero in torch decides a ReLU), so the float steps follow torch exactly.
// With `across` set, the sums (and the count) are those of every process's batch; returns the
// count the statistics are over.
int64_t batch_stats(const Tensor& x, std::vector<float>& mean, std::vector<float>& var_sum,
                    const std::function<void(double*, int64_t)>& across) {
  const int64_t n = x.shape()[0], c = x.shape()[1], plane = x.shape()[2] * x.shape()[3];
  const float* px = x.f32();
  std::vector<double> s(c + 1, 0.0), sq(c + 1, 0.0);
  for_planes_by_channel(n, c, plane, [&](int64_t i, int64_t ch) {
    s[ch] += sum_f64(plane, px + (i * c + ch) * plane);
  });
  s[c] = static_cast<double>(n * plane);
  if (across) across(s.data(), c + 1);
  const double count = s[c];
  for (int64_t ch = 0; ch < c; ++ch) mean[ch] = static_cast<float>(s[ch] / count);
  for_planes_by_channel(n, c, plane, [&](int64_t i, int64_t ch) {
    sq[ch] += sum_sq_dev_f64(plane, px + (i * c + ch) * plane, mean[ch]);
  });
  if (across) across(sq.data(), c);
  for (int64_t ch = 0; ch < c; ++ch) var_sum[ch] = static_cast<float>(sq[ch]);
  return static_cast<int64_t>(count);
}

}  // namespace

// x [N, C, H, W], weight and bias [C] -> y [N, C, H, W]
// y = (x - mean) * invstd * weight + bias, with xhat = (x - mean) * invstd and per channel sums
// over M = N*H*W elements:
//   training: dx = weight * invstd * (g - sum(g) / M - xhat * sum(g * xhat) / M)
//   evaluation: dx = g * weight * invstd (the statistics are constants)
//   dweight = sum(g * xhat), dbias = sum(g)
namespace {

// The evaluation statistics: the running mean and 1 / sqrt(running_var + eps) in float.
void running_invstd(const BatchNormState& state, double eps, std::vector<float>& mean,
                    std::vector<float>& invstd) {
  const float* rm = state.running_mean.f32();
  const float* rv = state.running_var.f32();
  for (size_t ch = 0; ch < mean.size(); ++ch) {
    mean[ch] = rm[ch];
    invstd[ch] = 1.0f / std::sqrt(rv[ch] + static_cast<float>(eps));
  }
}

// y = x * alpha + beta per channel with alpha = invstd * weight, beta = bias - mean * alpha,
// each a fused multiply-add in float as torch's (FMA-contracted) CPU kernel computes them.
void affine_from_stats(const std::vector<float>& mean, const std::vector<float>& invstd,
                       const Tensor& weight, const Tensor& bias, std::vector<float>& alpha,
                       std::vector<float>& beta) {
  const float* pw = weight.f32();
  const float* pb = bias.f32();
  for (size_t ch = 0; ch < mean.size(); ++ch) {
    alpha[ch] = invstd[ch] * pw[ch];
    beta[ch] = std::fma(-mean[ch], alpha[ch], pb[ch]);
  }
}

}  // namespace

void batch_norm2d_eval_affine(const Tensor& weight, const Tensor& bias,
                              const BatchNormState& state, double eps, std::vector<float>& mul,
                              std::vector<float>& add) {
  const int64_t c = weight.numel();
  check_channel_tensor("bias", bias, c);
  check_channel_tensor("running_mean", state.running_mean, c);
  check_channel_tensor("running_var", state.running_var, c);
  std::vector<float> mean(c), invstd(c);
  running_invstd(state, eps, mean, invstd);
  mul.resize(c);
  add.resize(c);
  affine_from_stats(mean, invstd, weight, bias, mul, add);
}

namespace {

// What the forward computed and the backward needs.
struct BatchNormPass {
  int64_t n = 0, c = 0, plane = 0, count = 0;  // count: of every process's batch when synchronised
  std::vector<float> mean, invstd;              // float, as torch saves them
  std::vector<float> alpha, beta;               // y = x * alpha + beta per channel
};

// Checks, the statistics (batch or running), the running-statistics update, the affine form.
BatchNormPass batch_norm_prepare(const Var& x, const Var& weight, const Var& bias,
                                 BatchNormState& state, bool training, double momentum,
                                 double eps) {
  CHIMERA_CHECK(x.value().dim() == 4,
                "batch_norm2d: expected input [batch, channels, height, width], got ",
                shape_str(x.shape()));
  BatchNormPass p;
  p.n = x.shape()[0], p.c = x.shape()[1], p.plane = x.shape()[2] * x.shape()[3];
  const int64_t c = p.c;
  p.count = p.n * p.plane;
  check_channel_tensor("weight", weight.value(), c);
  check_channel_tensor("bias", bias.value(), c);
  check_channel_tensor("running_mean", state.running_mean, c);
  check_channel_tensor("running_var", state.running_var, c);
  CHIMERA_CHECK(state.num_batches_tracked.defined() &&
                    state.num_batches_tracked.dtype() == DType::i64 &&
                    state.num_batches_tracked.numel() == 1,
                "batch_norm2d: num_batches_tracked must be a one-element i64 tensor");
  p.mean.resize(c);
  p.invstd.resize(c);
  if (training) {
    CHIMERA_CHECK(p.count > 1,
                  "batch_norm2d: training needs more than one value per channel, got input ",
                  shape_str(x.shape()));
    std::vector<float> var_sum(c);
    p.count = batch_stats(x.value(), p.mean, var_sum, state.sum_stats);
    float* rm = state.running_mean.f32();
    float* rv = state.running_var.f32();
    for (int64_t ch = 0; ch < c; ++ch) {
      const float biased = var_sum[ch] / static_cast<float>(p.count);
      const float unbiased = var_sum[ch] / static_cast<float>(p.count - 1);
      p.invstd[ch] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(biased) + eps));
      rm[ch] = static_cast<float>(momentum * p.mean[ch] + (1.0 - momentum) * rm[ch]);
      rv[ch] = static_cast<float>(momentum * unbiased + (1.0 - momentum) * rv[ch]);
    }
    state.num_batches_tracked.data<int64_t>()[0] += 1;
  } else {
    running_invstd(state, eps, p.mean, p.invstd);
  }
  p.alpha.resize(c);
  p.beta.resize(c);
  affine_from_stats(p.mean, p.invstd, weight.value(), bias.value(), p.alpha, p.beta);
  return p;
}

// The gradients of x, weight and bias from g, the gradient of the BatchNorm's output.
void batch_norm_backward(const Tensor& g, const Var& x, const Var& weight, const Var& bias,
                         bool training, const BatchNormPass& p,
                         const std::function<void(double*, int64_t)>& sum_grads) {
  const int64_t n = p.n, c = p.c, plane = p.plane;
  const std::vector<float>& mean = p.mean;
  const std::vector<float>& invstd = p.invstd;
  const float* pg = g.f32();
  const float* px = x.value().f32();
  const float* pw = weight.value().f32();
  // Per channel: sum(g) and sum(g * xhat), each in sample order.
  std::vector<double> sum_g(c, 0.0), sum_g_xhat(c, 0.0);
  for_planes_by_channel(n, c, plane, [&](int64_t i, int64_t ch) {
    double plane_g, plane_gx;
    sum_and_dot_dev_f64(plane, pg + (i * c + ch) * plane, px + (i * c + ch) * plane, mean[ch],
                        &plane_g, &plane_gx);
    sum_g[ch] += plane_g;
    sum_g_xhat[ch] += plane_gx;
  });
  for (int64_t ch = 0; ch < c; ++ch) sum_g_xhat[ch] *= invstd[ch];
  if (x.requires_grad()) {
    // Synchronised: dx needs the sums over every process's batch; this layer's own
    // parameter gradients keep this batch's (the trainer combines those).
    std::vector<double> all_g = sum_g, all_g_xhat = sum_g_xhat;
    if (sum_grads) {
      std::vector<double> both(all_g);
      both.insert(both.end(), all_g_xhat.begin(), all_g_xhat.end());
      sum_grads(both.data(), 2 * c);
      std::copy(both.begin(), both.begin() + c, all_g.begin());
      std::copy(both.begin() + c, both.end(), all_g_xhat.begin());
    }
    // Per channel constants, then float arithmetic per element as torch's CPU kernel does.
    const double m = static_cast<double>(p.count);
    std::vector<float> mean_f(c), g_mean(c), k(c), gain(c);
    for (int64_t ch = 0; ch < c; ++ch) {
      mean_f[ch] = static_cast<float>(mean[ch]);
      g_mean[ch] = training ? static_cast<float>(all_g[ch] / m) : 0.0f;
      k[ch] = training ? static_cast<float>(all_g_xhat[ch] * invstd[ch] / m) : 0.0f;
      gain[ch] = static_cast<float>(invstd[ch] * pw[ch]);
    }
    Tensor dx = Tensor::empty(x.shape());
    float* pd = dx.f32();
    parallel_for(n * c, plane, [&](int64_t q) {
      const int64_t ch = q % c;
      for (int64_t j = q * plane; j < (q + 1) * plane; ++j)
        pd[j] = (pg[j] - g_mean[ch] - (px[j] - mean_f[ch]) * k[ch]) * gain[ch];
    });
    add_grad(x, dx);
  }
  if (weight.requires_grad())
    add_grad(weight,
             generate({c}, [&](int64_t ch) { return static_cast<float>(sum_g_xhat[ch]); }));
  if (bias.requires_grad())
    add_grad(bias, generate({c}, [&](int64_t ch) { return static_cast<float>(sum_g[ch]); }));
}

}  // namespace

Var batch_norm2d(const Var& x, const Var& weight, const Var& bias, BatchNormState& state,
                 bool training, double momentum, double eps) {
  auto p = std::make_shared<BatchNormPass>(
      batch_norm_prepare(x, weight, bias, state, training, momentum, eps));
  const float* px = x.value().f32();
  Tensor y = Tensor::empty(x.shape());
  float* py = y.f32();
  parallel_for(p->n * p->c, p->plane, [&](int64_t q) {  // one [H, W] plane of channel q % c
    const int64_t plane = p->plane, ch = q % p->c;
    fma_f32(plane, px + q * plane, p->alpha[ch], p->beta[ch], py + q * plane);
  });
  return make_op("batch_norm2d", std::move(y), {x, weight, bias},
                 [x, weight, bias, training, p,
                  sum_grads = training ? state.sum_grads : nullptr](const Tensor& g) {
                   batch_norm_backward(g, x, weight, bias, training, *p, sum_grads);
                 });
}

// One [H, W] plane at a time: the BatchNorm, the add and the ReLU go through a plane-sized
// buffer in L1 with the same kernels as the three ops, so the result is theirs bit for bit
// while memory is read once and written once.
Var batch_norm2d_relu(const Var& x, const Var& weight, const Var& bias, BatchNormState& state,
                      bool training, const Var* residual, double momentum, double eps) {
  auto p = std::make_shared<BatchNormPass>(
      batch_norm_prepare(x, weight, bias, state, training, momentum, eps));
  if (residual)
    CHIMERA_CHECK(residual->shape() == x.shape() && residual->value().dtype() == DType::f32,
                  "batch_norm2d_relu: the residual ", shape_str(residual->shape()),
                  " must have the input's shape ", shape_str(x.shape()));
  const float* px = x.value().f32();
  const float* pr = residual ? residual->value().f32() : nullptr;
  Tensor y = Tensor::empty(x.shape());
  float* py = y.f32();
  const int64_t plane = p->plane;
  parallel_for(p->n * p->c, plane, [&](int64_t q) {
    thread_local std::vector<float> bn, sum;
    bn.resize(static_cast<size_t>(plane));
    sum.resize(static_cast<size_t>(plane));
    const int64_t ch = q % p->c;
    fma_f32(plane, px + q * plane, p->alpha[ch], p->beta[ch], bn.data());
    if (pr) add_f32(plane, bn.data(), pr + q * plane, sum.data());
    relu_f32(plane, pr ? sum.data() : bn.data(), py + q * plane);
  });
  std::vector<Var> inputs = {x, weight, bias};
  if (residual) inputs.push_back(*residual);
  return make_op(
      "batch_norm2d_relu", y, inputs,
      [x, weight, bias, training, p, y, r = residual ? *residual : Var(),
       sum_grads = training ? state.sum_grads : nullptr](const Tensor& g) {
        Tensor gr = Tensor::empty(g.shape());  // the ReLU's backward, as relu() computes it
        const float* pg = g.f32();
        const float* py = y.f32();
        float* pd = gr.f32();
        for_blocks(gr.numel(),
                   [&](int64_t b, int64_t e) { relu_backward_f32(e - b, py + b, pg + b, pd + b); });
        batch_norm_backward(gr, x, weight, bias, training, *p, sum_grads);
        if (r.defined()) add_grad(r, gr);
      });
}

}  // namespace chimera
