// The transformer's ops: backward against finite differences, forward against naive loops in
// double and against identities (position 0 does not rotate, a cached decode step is the last
// row of the full attention).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include "engine/ops/ops.h"
#include "engine/rng.h"
#include "golden.h"
#include "grad_check.h"
#include "test_util.h"

namespace chimera {
namespace {

using test::all_close;
using test::gradients_match;
using test::Op;
using test::uniform;

Tensor ids_tensor(Shape shape, std::vector<int64_t> values) {
  Tensor t(std::move(shape), DType::i64);
  for (size_t i = 0; i < values.size(); ++i) t.data<int64_t>()[i] = values[i];
  return t;
}

TEST(TransformerOpsGrad, Embedding) {
  Rng rng(1);
  const Tensor ids = ids_tensor({2, 3}, {4, 0, 4, 2, 2, 1});  // repeated ids add up
  const Op op = [&](const std::vector<Var>& v) { return embedding(v[0], ids); };
  EXPECT_TRUE(gradients_match(op, {uniform(rng, {5, 3})}));
}

TEST(TransformerOps, EmbeddingLooksUpRowsAndRejectsBadIds) {
  const Tensor w = Tensor::from_vector({3, 2}, {1, 2, 3, 4, 5, 6});
  const Var y = embedding(Var(w), ids_tensor({2}, {2, 0}));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_TRUE(all_close(y.value(), Tensor::from_vector({2, 2}, {5, 6, 1, 2}), 0, 0));
  const std::string e = test::error_of([&] { embedding(Var(w), ids_tensor({2}, {1, 3})); });
  EXPECT_NE(e.find("token id 3"), std::string::npos) << e;
  EXPECT_NE(e.find("[0, 3)"), std::string::npos) << e;
}

TEST(TransformerOpsGrad, RmsNorm) {
  Rng rng(2);
  const Op op = [](const std::vector<Var>& v) { return rms_norm(v[0], v[1], 1e-5); };
  EXPECT_TRUE(gradients_match(op, {uniform(rng, {2, 3, 6}), uniform(rng, {6}, 0.5, 1.5)}));
}

TEST(TransformerOps, RmsNormValues) {
  const Tensor x = Tensor::from_vector({2, 2}, {3, 4, 0, 2});
  const Tensor w = Tensor::from_vector({2}, {1, 2});
  const Var y = rms_norm(Var(x), Var(w), 0.0);
  const double r0 = 1.0 / std::sqrt(12.5), r1 = 1.0 / std::sqrt(2.0);
  EXPECT_TRUE(all_close(y.value(),
                        Tensor::from_vector({2, 2}, {static_cast<float>(3 * r0),
                                                     static_cast<float>(8 * r0), 0.0f,
                                                     static_cast<float>(4 * r1)}),
                        1e-6, 0));
}

TEST(TransformerOpsGrad, Rotary) {
  Rng rng(3);
  const Op op = [](const std::vector<Var>& v) { return rotary(v[0], 2, 10000.0); };
  EXPECT_TRUE(gradients_match(op, {uniform(rng, {2, 3, 2, 4})}));
}

TEST(TransformerOps, RotaryTurnsPairsByPositionTimesFrequency) {
  Rng rng(4);
  const Tensor x = uniform(rng, {1, 3, 2, 4});
  const Tensor y = rotary(Var(x), 5, 100.0).value();
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 2; ++i) {
        const double angle = (5.0 + t) * std::pow(100.0, -2.0 * i / 4.0);
        const int64_t at = (t * 2 + h) * 4 + 2 * i;
        const double x0 = x.f32()[at], x1 = x.f32()[at + 1];
        EXPECT_NEAR(y.f32()[at], x0 * std::cos(angle) - x1 * std::sin(angle), 1e-6);
        EXPECT_NEAR(y.f32()[at + 1], x0 * std::sin(angle) + x1 * std::cos(angle), 1e-6);
      }
  // Position 0 is the identity.
  const Tensor first = rotary(Var(x.reshape({3, 1, 2, 4})), 0, 100.0).value();
  for (int64_t j = 0; j < 8; ++j) EXPECT_EQ(first.f32()[j], x.f32()[j]);
}

// The sines and cosines are cached per thread as far as positions were asked for: a position
// reached through the cache, one at a time, one past its end and far beyond what is cached all
// rotate exactly as a fresh computation of the same rows.
TEST(TransformerOps, RotaryCachedPositionsAreTheComputedOnes) {
  Rng rng(5);
  const Tensor x = uniform(rng, {1, 1, 2, 6});
  const Tensor all = uniform(rng, {1, 40, 2, 6});
  const Tensor whole = rotary(Var(all), 0, 500.0).value();  // positions 0..39 in one call
  for (int64_t p : {int64_t{39}, int64_t{3}, int64_t{40}, int64_t{41}, int64_t{100000}}) {
    const Tensor y = rotary(Var(x), p, 500.0).value();
    for (int64_t j = 0; j < 12; ++j) {
      const int64_t i = (j % 6) / 2;
      const double angle = static_cast<double>(p) * std::pow(500.0, -2.0 * i / 6.0);
      const float co = static_cast<float>(std::cos(angle)), si = static_cast<float>(std::sin(angle));
      const float x0 = x.f32()[j & ~int64_t{1}], x1 = x.f32()[j | 1];
      EXPECT_EQ(y.f32()[j], j % 2 == 0 ? x0 * co - x1 * si : x0 * si + x1 * co) << p << " " << j;
    }
  }
  for (int64_t t = 0; t < 40; ++t) {  // one token at a time equals the whole sequence
    Tensor token({1, 1, 2, 6});
    std::copy(all.f32() + t * 12, all.f32() + (t + 1) * 12, token.f32());
    const Tensor one = rotary(Var(token), t, 500.0).value();
    for (int64_t j = 0; j < 12; ++j) EXPECT_EQ(one.f32()[j], whole.f32()[t * 12 + j]) << t;
  }
}

// Naive causal attention in double: q [B, Tq, H, D], k/v [B, Tk, G, D].
std::vector<double> naive_attention(const Tensor& q, const Tensor& k, const Tensor& v) {
  const int64_t B = q.shape()[0], Tq = q.shape()[1], H = q.shape()[2], D = q.shape()[3];
  const int64_t Tk = k.shape()[1], G = k.shape()[2];
  std::vector<double> out(static_cast<size_t>(q.numel()), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / (H / G);
      for (int64_t i = 0; i < Tq; ++i) {
        const int64_t last = Tk - Tq + i;
        std::vector<double> s(static_cast<size_t>(last + 1));
        double m = -1e300, sum = 0;
        for (int64_t j = 0; j <= last; ++j) {
          double d = 0;
          for (int64_t c = 0; c < D; ++c)
            d += static_cast<double>(q.f32()[((b * Tq + i) * H + h) * D + c]) *
                 k.f32()[((b * Tk + j) * G + g) * D + c];
          s[j] = d / std::sqrt(static_cast<double>(D));
          m = std::max(m, s[j]);
        }
        for (double& x : s) sum += (x = std::exp(x - m));
        for (int64_t j = 0; j <= last; ++j)
          for (int64_t c = 0; c < D; ++c)
            out[((b * Tq + i) * H + h) * D + c] +=
                s[j] / sum * v.f32()[((b * Tk + j) * G + g) * D + c];
      }
    }
  return out;
}

TEST(TransformerOps, CausalAttentionMatchesNaiveLoops) {
  Rng rng(5);
  for (const auto& [tq, tk, heads, kv_heads] :
       std::vector<std::array<int64_t, 4>>{{5, 5, 2, 2}, {4, 4, 4, 2}, {2, 6, 4, 1}}) {
    const Tensor q = uniform(rng, {2, tq, heads, 8}, -2, 2), k = uniform(rng, {2, tk, kv_heads, 8}, -2, 2),
                 v = uniform(rng, {2, tk, kv_heads, 8});
    const Tensor y = causal_attention(Var(q), Var(k), Var(v)).value();
    const std::vector<double> want = naive_attention(q, k, v);
    for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(y.f32()[i], want[i], 1e-5) << i;
  }
}

// A decoder with a cache asks for the last query alone: the full attention's last row.
TEST(TransformerOps, CachedStepIsTheLastRowOfTheFullAttention) {
  Rng rng(6);
  const Tensor q = uniform(rng, {1, 6, 4, 8}), k = uniform(rng, {1, 6, 2, 8}),
               v = uniform(rng, {1, 6, 2, 8});
  const Tensor full = causal_attention(Var(q), Var(k), Var(v)).value();
  Tensor q_last({1, 1, 4, 8});
  for (int64_t i = 0; i < 32; ++i) q_last.f32()[i] = q.f32()[5 * 32 + i];
  const Tensor step = causal_attention(Var(q_last), Var(k), Var(v)).value();
  for (int64_t i = 0; i < 32; ++i) EXPECT_NEAR(step.f32()[i], full.f32()[5 * 32 + i], 1e-6);
}

TEST(TransformerOpsGrad, CausalAttentionWithSharedKeyValueHeads) {
  Rng rng(7);
  const Op op = [](const std::vector<Var>& v) { return causal_attention(v[0], v[1], v[2]); };
  EXPECT_TRUE(gradients_match(
      op, {uniform(rng, {2, 3, 4, 4}), uniform(rng, {2, 3, 2, 4}), uniform(rng, {2, 3, 2, 4})}));
  EXPECT_TRUE(gradients_match(
      op, {uniform(rng, {1, 2, 2, 4}), uniform(rng, {1, 4, 1, 4}), uniform(rng, {1, 4, 1, 4})}));
  // One query (a decoding step, the fused kernel) over 5 cached positions, 2 key/value heads.
  EXPECT_TRUE(gradients_match(
      op, {uniform(rng, {2, 1, 4, 4}), uniform(rng, {2, 5, 2, 4}), uniform(rng, {2, 5, 2, 4})}));
}

TEST(TransformerOps, CausalAttentionRejectsMismatchedShapes) {
  const Var q(Tensor({1, 2, 3, 4})), k(Tensor({1, 2, 2, 4}));
  const std::string e = test::error_of([&] { causal_attention(q, k, k); });
  EXPECT_NE(e.find("multiple of kv_heads"), std::string::npos) << e;
  EXPECT_THROW(causal_attention(Var(Tensor({1, 3, 2, 4})), Var(Tensor({1, 2, 2, 4})),
                                Var(Tensor({1, 2, 2, 4}))),
               Error);
}

TEST(TransformerOpsGrad, SwigluAndReluSquared) {
  Rng rng(8);
  const Op glu = [](const std::vector<Var>& v) { return swiglu(v[0], v[1]); };
  EXPECT_TRUE(gradients_match(glu, {uniform(rng, {3, 5}, -3, 3), uniform(rng, {3, 5})}));
  const Op relu2 = [](const std::vector<Var>& v) { return relu_squared(v[0]); };
  EXPECT_TRUE(gradients_match(relu2, {test::away_from_zero(uniform(rng, {4, 5}), 0.01f)}));
}

TEST(TransformerOps, SwigluAndReluSquaredValues) {
  const Tensor a = Tensor::from_vector({3}, {-1, 0, 2}), b = Tensor::from_vector({3}, {2, 5, 3});
  const Tensor y = swiglu(Var(a), Var(b)).value();
  EXPECT_NEAR(y.f32()[0], -1.0 / (1.0 + std::exp(1.0)) * 2, 1e-6);
  EXPECT_EQ(y.f32()[1], 0.0f);
  EXPECT_NEAR(y.f32()[2], 2.0 / (1.0 + std::exp(-2.0)) * 3, 1e-6);
  EXPECT_TRUE(all_close(relu_squared(Var(a)).value(), Tensor::from_vector({3}, {0, 0, 4}), 0, 0));
}

}  // namespace
}  // namespace chimera
