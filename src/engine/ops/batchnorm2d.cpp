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

Var batch_norm2d(const Var& x, const Var& weight, const Var& bias, BatchNormState& state,
                 bool training, double momentum, double eps) {
  CHIMERA_CHECK(x.value().dim() == 4,
                "batch_norm2d: expected input [batch, channels, height, width], got ",
                shape_str(x.shape()));
  const int64_t n = x.shape()[0], c = x.shape()[1], plane = x.shape()[2] * x.shape()[3];
  int64_t count = n * plane;  // of every process's batch when synchronised
  check_channel_tensor("weight", weight.value(), c);
  check_channel_tensor("bias", bias.value(), c);
  check_channel_tensor("running_mean", state.running_mean, c);
  check_channel_tensor("running_var", state.running_var, c);
  CHIMERA_CHECK(state.num_batches_tracked.defined() &&
                    state.num_batches_tracked.dtype() == DType::i64 &&
                    state.num_batches_tracked.numel() == 1,
                "batch_norm2d: num_batches_tracked must be a one-element i64 tensor");

  // Statistics in float, as torch saves them (the backward uses the same values).
  std::vector<float> mean(c), invstd(c);
  if (training) {
    CHIMERA_CHECK(count > 1,
                  "batch_norm2d: training needs more than one value per channel, got input ",
                  shape_str(x.shape()));
    std::vector<float> var_sum(c);
    count = batch_stats(x.value(), mean, var_sum, state.sum_stats);
    float* rm = state.running_mean.f32();
    float* rv = state.running_var.f32();
    for (int64_t ch = 0; ch < c; ++ch) {
      const float biased = var_sum[ch] / static_cast<float>(count);
      const float unbiased = var_sum[ch] / static_cast<float>(count - 1);
      invstd[ch] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(biased) + eps));
      rm[ch] = static_cast<float>(momentum * mean[ch] + (1.0 - momentum) * rm[ch]);
      rv[ch] = static_cast<float>(momentum * unbiased + (1.0 - momentum) * rv[ch]);
    }
    state.num_batches_tracked.data<int64_t>()[0] += 1;
  } else {
    running_invstd(state, eps, mean, invstd);
  }

  std::vector<float> alpha(c), beta(c);
  affine_from_stats(mean, invstd, weight.value(), bias.value(), alpha, beta);
  const float* px = x.value().f32();
  Tensor y = Tensor::empty(x.shape());
  float* py = y.f32();
  parallel_for(n * c, plane, [&](int64_t p) {  // one [H, W] plane of channel p % c per step
    fma_f32(plane, px + p * plane, alpha[p % c], beta[p % c], py + p * plane);
  });

  return make_op(
      "batch_norm2d", std::move(y), {x, weight, bias},
      [x, weight, bias, training, mean, invstd, n, c, plane, count,
       sum_grads = training ? state.sum_grads : nullptr](const Tensor& g) {
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
          const double m = static_cast<double>(count);
          std::vector<float> mean_f(c), g_mean(c), k(c), gain(c);
          for (int64_t ch = 0; ch < c; ++ch) {
            mean_f[ch] = static_cast<float>(mean[ch]);
            g_mean[ch] = training ? static_cast<float>(all_g[ch] / m) : 0.0f;
            k[ch] = training ? static_cast<float>(all_g_xhat[ch] * invstd[ch] / m) : 0.0f;
            gain[ch] = static_cast<float>(invstd[ch] * pw[ch]);
          }
          Tensor dx = Tensor::empty(x.shape());
          float* pd = dx.f32();
          parallel_for(n * c, plane, [&](int64_t p) {
            const int64_t ch = p % c;
            for (int64_t j = p * plane; j < (p + 1) * plane; ++j)
              pd[j] = (pg[j] - g_mean[ch] - (px[j] - mean_f[ch]) * k[ch]) * gain[ch];
          });
          add_grad(x, dx);
        }
        if (weight.requires_grad())
          add_grad(weight,
                   generate({c}, [&](int64_t ch) { return static_cast<float>(sum_g_xhat[ch]); }));
        if (bias.requires_grad())
          add_grad(bias, generate({c}, [&](int64_t ch) { return static_cast<float>(sum_g[ch]); }));
      });
}

}  // namespace chimera
