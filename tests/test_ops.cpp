// Differentiable ops: backward against finite differences, forward against hand-computed or
// naive-loop values, NoGradGuard, and run-to-run determinism of the convolution.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "engine/kernels/conv2d_f32.h"
#include "engine/ops/ops.h"
#include "engine/rng.h"
#include "engine/threads.h"
#include "golden.h"
#include "grad_check.h"
#include "test_util.h"

namespace chimera {
namespace {

using test::all_close;
using test::all_equal;
using test::away_from_zero;
using test::gradients_match;
using test::Op;
using test::uniform;

// The checker itself must reject a backward that is off by a factor of two.
TEST(GradCheck, RejectsAWrongBackward) {
  Rng rng(1);
  const Op twice_missing_factor = [](const std::vector<Var>& v) {
    Tensor out = v[0].value().clone();
    for (int64_t i = 0; i < out.numel(); ++i) out.f32()[i] *= 2.0f;
    Var x = v[0];
    return make_op("bad", out, {x}, [x](const Tensor& g) { add_grad(x, g); });
  };
  EXPECT_FALSE(gradients_match(twice_missing_factor, {uniform(rng, {3, 4})}));
  const Op twice = [](const std::vector<Var>& v) { return scale(v[0], 2.0); };
  EXPECT_TRUE(gradients_match(twice, {uniform(rng, {3, 4})}));
}

// ---- elementwise ----

TEST(OpsGrad, AddSubMulDivSameShapeAndBroadcast) {
  Rng rng(2);
  const std::vector<std::pair<const char*, std::function<Var(const Var&, const Var&)>>> ops = {
      {"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  for (const auto& [name, f] : ops) {
    const Op op = [f = f](const std::vector<Var>& v) { return f(v[0], v[1]); };
    for (const Shape& b_shape : {Shape{3, 5}, Shape{}, Shape{1}}) {
      Tensor a = uniform(rng, {3, 5});
      Tensor b = away_from_zero(uniform(rng, b_shape), 0.5f);  // div has a pole at 0
      EXPECT_TRUE(gradients_match(op, {a, b})) << name << " with b " << shape_str(b_shape);
    }
  }
}

TEST(OpsGrad, PowScaleAddScalar) {
  Rng rng(3);
  for (double e : {2.0, 3.0, -1.0, 0.0})
    EXPECT_TRUE(gradients_match([e](const std::vector<Var>& v) { return pow(v[0], e); },
                                {away_from_zero(uniform(rng, {2, 7}), 0.3f)}))
        << "exponent " << e;
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return pow(v[0], 0.5); },
                              {uniform(rng, {2, 7}, 0.3, 2.0)}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return scale(v[0], -1.7); },
                              {uniform(rng, {4, 3})}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return add_scalar(v[0], 0.25); },
                              {uniform(rng, {4, 3})}));
}

TEST(OpsGrad, SameVarOnBothSidesAccumulates) {
  Rng rng(4);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return mul(v[0], v[0]); },
                              {uniform(rng, {6})}));
}

TEST(Ops, ElementwiseValuesAndBroadcast) {
  Var a(Tensor::from_vector({2, 2}, {1, 2, 3, 4}));
  Var b(Tensor::from_vector({2, 2}, {2, 4, 8, 16}));
  Var s(Tensor::scalar(2.0f));
  EXPECT_TRUE(all_equal(add(a, b).value(), Tensor::from_vector({2, 2}, {3, 6, 11, 20})));
  EXPECT_TRUE(all_equal(sub(a, s).value(), Tensor::from_vector({2, 2}, {-1, 0, 1, 2})));
  EXPECT_TRUE(all_equal(mul(a, s).value(), Tensor::from_vector({2, 2}, {2, 4, 6, 8})));
  EXPECT_TRUE(all_equal(div(a, b).value(), Tensor::from_vector({2, 2}, {0.5, 0.5, 0.375, 0.25})));
  EXPECT_TRUE(all_equal(pow(a, 2.0).value(), Tensor::from_vector({2, 2}, {1, 4, 9, 16})));
  EXPECT_TRUE(all_equal(scale(a, 0.5).value(), Tensor::from_vector({2, 2}, {0.5, 1, 1.5, 2})));
  EXPECT_TRUE(all_equal(add_scalar(a, 1.0).value(), Tensor::from_vector({2, 2}, {2, 3, 4, 5})));
}

TEST(Ops, BroadcastOperandGradientIsTheSum) {
  Var a(Tensor::from_vector({3}, {1, 2, 3}), true);
  Var s(Tensor::from_vector({1}, {10}), true);
  backward(sum(mul(a, s)));
  EXPECT_FLOAT_EQ(s.grad().f32()[0], 6.0f);
  EXPECT_TRUE(all_equal(a.grad(), Tensor::from_vector({3}, {10, 10, 10})));
}

TEST(Ops, PowGradientIsExponentTimesPowerMinusOne) {
  Var x(Tensor::from_vector({2}, {2, -1}), true);
  backward(sum(pow(x, 3.0)));
  EXPECT_TRUE(all_equal(x.grad(), Tensor::from_vector({2}, {12, 3})));
}

TEST(Ops, MismatchedShapesNameBothShapes) {
  Var a(Tensor({2, 3})), b(Tensor({3, 2}));
  try {
    add(a, b);
    FAIL() << "add accepted [2, 3] and [3, 2]";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 2]"), std::string::npos) << msg;
  }
  EXPECT_THROW(mul(a, Var(Tensor({3}))), Error);
  EXPECT_THROW(div(Var(Tensor::scalar(1.0f)), a), Error);  // only b may be broadcast
  EXPECT_THROW(matmul(a, Var(Tensor({2, 3}))), Error);
  EXPECT_THROW(linear(a, Var(Tensor({4, 2}))), Error);
  EXPECT_THROW(linear(a, Var(Tensor({4, 3})), Var(Tensor({3}))), Error);
}

// ---- activation, reduce, shape ----

TEST(OpsGrad, ReluTanh) {
  Rng rng(5);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return relu(v[0]); },
                              {away_from_zero(uniform(rng, {3, 8}), 0.05f)}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return tanh(v[0]); },
                              {uniform(rng, {3, 8}, -2.0, 2.0)}));
}

TEST(Ops, ReluGradientAtZeroIsZero) {
  Var x(Tensor::from_vector({3}, {-1, 0, 2}), true);
  Var y = relu(x);
  EXPECT_TRUE(all_equal(y.value(), Tensor::from_vector({3}, {0, 0, 2})));
  backward(sum(y));
  EXPECT_TRUE(all_equal(x.grad(), Tensor::from_vector({3}, {0, 0, 1})));
}

TEST(OpsGrad, SumMeanReshapeFlattenPool) {
  Rng rng(6);
  EXPECT_TRUE(
      gradients_match([](const std::vector<Var>& v) { return sum(v[0]); }, {uniform(rng, {3, 4})}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return mean(v[0]); },
                              {uniform(rng, {3, 4})}));
  EXPECT_TRUE(gradients_match(
      [](const std::vector<Var>& v) {
        return reshape(v[0], {4, -1});
      },
      {uniform(rng, {2, 6})}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return flatten(v[0]); },
                              {uniform(rng, {2, 3, 2, 2})}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return global_avg_pool2d(v[0]); },
                              {uniform(rng, {2, 3, 3, 4})}));
}

TEST(Ops, ReduceAndShapeValues) {
  Var x(Tensor::from_vector({2, 1, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(sum(x).value().dim(), 0);
  EXPECT_FLOAT_EQ(sum(x).value().item(), 36.0f);
  EXPECT_FLOAT_EQ(mean(x).value().item(), 4.5f);
  EXPECT_EQ(flatten(x).shape(), (Shape{2, 4}));
  EXPECT_EQ(reshape(x, {-1}).shape(), (Shape{8}));
  EXPECT_TRUE(all_equal(global_avg_pool2d(x).value(), Tensor::from_vector({2, 1}, {2.5, 6.5})));
  EXPECT_THROW(reshape(x, {3, -1}), Error);
  EXPECT_THROW(global_avg_pool2d(Var(Tensor({2, 3}))), Error);
  EXPECT_THROW(mean(Var(Tensor({0}))), Error);
}

// ---- linear ----

TEST(OpsGrad, MatmulAndLinear) {
  Rng rng(7);
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return matmul(v[0], v[1]); },
                              {uniform(rng, {3, 5}), uniform(rng, {5, 4})}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return linear(v[0], v[1], v[2]); },
                              {uniform(rng, {4, 5}), uniform(rng, {3, 5}), uniform(rng, {3})}));
  EXPECT_TRUE(gradients_match([](const std::vector<Var>& v) { return linear(v[0], v[1]); },
                              {uniform(rng, {4, 5}), uniform(rng, {3, 5})}));
}

TEST(Ops, MatmulAndLinearValues) {
  Var a(Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}));
  Var b(Tensor::from_vector({3, 2}, {1, 0, 0, 1, 1, 1}));
  EXPECT_TRUE(all_equal(matmul(a, b).value(), Tensor::from_vector({2, 2}, {4, 5, 10, 11})));
  Var w(Tensor::from_vector({2, 3}, {1, 0, 1, 0, 1, 1}));  // rows of b^T
  Var bias(Tensor::from_vector({2}, {0.5, -1}));
  EXPECT_TRUE(
      all_equal(linear(a, w, bias).value(), Tensor::from_vector({2, 2}, {4.5, 4, 10.5, 10})));
}

TEST(Ops, OnlyRequestedGradientsAreComputed) {
  Rng rng(8);
  Var x(uniform(rng, {2, 3})), w(uniform(rng, {4, 3}), true);
  backward(sum(linear(x, w)));
  EXPECT_FALSE(x.has_grad());
  EXPECT_TRUE(w.has_grad());
}

// ---- conv2d ----

// Direct convolution in double, and its adjoints for a given dy: the oracle for the kernels.
struct NaiveConv {
  Tensor y, dx, dw;  // f64
};

NaiveConv naive_conv2d(const ConvGeometry& g, const Tensor& x, const Tensor& w, const Tensor& dy) {
  NaiveConv r{Tensor({g.n, g.c_out, g.out_h, g.out_w}, DType::f64),
              Tensor({g.n, g.c_in, g.h, g.w}, DType::f64),
              Tensor({g.c_out, g.cin_g(), g.kh, g.kw}, DType::f64)};
  const float *px = x.f32(), *pw = w.f32(), *pdy = dy.f32();
  double *py = r.y.data<double>(), *pdx = r.dx.data<double>(), *pdw = r.dw.data<double>();
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t co = 0; co < g.c_out; ++co)
      for (int64_t oy = 0; oy < g.out_h; ++oy)
        for (int64_t ox = 0; ox < g.out_w; ++ox)
          for (int64_t ci = 0; ci < g.cin_g(); ++ci)
            for (int64_t i = 0; i < g.kh; ++i)
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t iy = oy * g.p.stride_h - g.p.pad_h + i * g.p.dil_h;
                const int64_t ix = ox * g.p.stride_w - g.p.pad_w + j * g.p.dil_w;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const int64_t c = (co / g.cout_g()) * g.cin_g() + ci;
                const int64_t xi = ((n * g.c_in + c) * g.h + iy) * g.w + ix;
                const int64_t wi = ((co * g.cin_g() + ci) * g.kh + i) * g.kw + j;
                const int64_t yi = ((n * g.c_out + co) * g.out_h + oy) * g.out_w + ox;
                py[yi] += static_cast<double>(px[xi]) * pw[wi];
                pdx[xi] += static_cast<double>(pdy[yi]) * pw[wi];
                pdw[wi] += static_cast<double>(pdy[yi]) * px[xi];
              }
  return r;
}

Conv2dParams odd_params() {
  Conv2dParams p;
  p.stride_h = 2, p.stride_w = 1, p.pad_h = 1, p.pad_w = 2, p.dil_h = 2, p.dil_w = 1, p.groups = 2;
  return p;
}

void expect_kernels_match_naive(const Shape& xs, const Shape& ws, const Conv2dParams& p,
                                uint64_t seed) {
  Rng rng(seed);
  const Tensor x = uniform(rng, xs), w = uniform(rng, ws);
  const ConvGeometry g = conv_geometry(xs, ws, p);
  const Tensor dy = uniform(rng, {g.n, g.c_out, g.out_h, g.out_w});
  const NaiveConv want = naive_conv2d(g, x, w, dy);
  Tensor y(want.y.shape()), dx(xs), dw(ws);
  y.fill(7.0), dx.fill(7.0), dw.fill(7.0);  // the kernels overwrite their outputs
  conv2d_forward_f32(g, x.f32(), w.f32(), y.f32());
  conv2d_backward_input_f32(g, w.f32(), dy.f32(), dx.f32());
  conv2d_backward_weight_f32(g, x.f32(), dy.f32(), dw.f32());
  EXPECT_TRUE(all_close(y, want.y, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(dx, want.dx, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(dw, want.dw, 1e-5, 1e-4));
}

TEST(Conv2dKernels, MatchNaiveLoops) {
  expect_kernels_match_naive({2, 3, 6, 5}, {4, 3, 3, 3}, Conv2dParams{1, 1, 1, 1, 1, 1, 1}, 10);
  expect_kernels_match_naive({3, 4, 9, 8}, {6, 2, 3, 2}, odd_params(), 11);
  expect_kernels_match_naive({2, 4, 7, 7}, {4, 1, 3, 3}, Conv2dParams{2, 2, 1, 1, 1, 1, 4}, 12);
  expect_kernels_match_naive({2, 3, 5, 5}, {2, 3, 1, 1}, Conv2dParams{2, 2, 0, 0, 1, 1, 1}, 13);
}

// Large enough that the lowered columns are processed a few samples at a time.
TEST(Conv2dKernels, LargeBatchMatchesNaiveLoops) {
  expect_kernels_match_naive({9, 16, 64, 64}, {4, 16, 3, 3}, Conv2dParams{1, 1, 1, 1, 1, 1, 1}, 14);
}

TEST(OpsGrad, Conv2dPlainWithBias) {
  Rng rng(15);
  const Op op = [](const std::vector<Var>& v) {
    return conv2d(v[0], v[1], v[2], Conv2dParams{1, 1, 1, 1, 1, 1, 1});
  };
  EXPECT_TRUE(gradients_match(
      op, {uniform(rng, {2, 3, 5, 4}), uniform(rng, {4, 3, 3, 3}), uniform(rng, {4})}));
}

TEST(OpsGrad, Conv2dStridePaddingDilationGroups) {
  Rng rng(16);
  Conv2dParams p{2, 2, 1, 1, 2, 2, 2};
  const Op op = [p](const std::vector<Var>& v) { return conv2d(v[0], v[1], std::nullopt, p); };
  EXPECT_TRUE(gradients_match(op, {uniform(rng, {2, 4, 7, 7}), uniform(rng, {6, 2, 3, 3})}));
  const Op odd = [](const std::vector<Var>& v) { return conv2d(v[0], v[1], v[2], odd_params()); };
  EXPECT_TRUE(gradients_match(
      odd, {uniform(rng, {2, 4, 6, 5}), uniform(rng, {4, 2, 3, 2}), uniform(rng, {4})}));
}

TEST(Ops, Conv2dForwardMatchesNaiveWithBias) {
  Rng rng(17);
  const Conv2dParams p = odd_params();
  const Tensor x = uniform(rng, {2, 4, 8, 7}), w = uniform(rng, {6, 2, 3, 2});
  const Tensor b = uniform(rng, {6});
  const ConvGeometry g = conv_geometry(x.shape(), w.shape(), p);
  Tensor want = naive_conv2d(g, x, w, Tensor({g.n, g.c_out, g.out_h, g.out_w})).y;
  double* pw = want.data<double>();
  for (int64_t i = 0; i < want.numel(); ++i) pw[i] += b.f32()[(i / g.out_pixels()) % g.c_out];
  EXPECT_TRUE(all_close(conv2d(Var(x), Var(w), Var(b), p).value(), want, 1e-5, 1e-5));
}

TEST(Ops, Conv2dRejectsBadShapes) {
  Var x(Tensor({1, 4, 5, 5})), w(Tensor({6, 2, 3, 3}));
  EXPECT_THROW(conv2d(x, w, std::nullopt, Conv2dParams{}), Error);  // 4 channels vs 2 per group
  Conv2dParams two_groups;
  two_groups.groups = 2;
  EXPECT_NO_THROW(conv2d(x, w, std::nullopt, two_groups));
  EXPECT_THROW(conv2d(x, w, Var(Tensor({4})), two_groups), Error);  // bias must be [6]
}

TEST(Conv2dKernels, RepeatedRunsAreBitIdentical) {
  set_num_threads(std::max(2, hardware_threads()));
  Rng rng(18);
  const Conv2dParams p{2, 2, 1, 1, 1, 1, 1};
  const Tensor x = uniform(rng, {16, 16, 32, 32}), w = uniform(rng, {32, 16, 3, 3});
  const Tensor b = uniform(rng, {32});
  auto run = [&] {
    Var xv(x.clone(), true), wv(w.clone(), true), bv(b.clone(), true);
    Var y = conv2d(xv, wv, bv, p);
    Rng seed_rng(19);
    backward(y, uniform(seed_rng, y.shape()));
    return std::vector<Tensor>{y.value(), xv.grad(), wv.grad(), bv.grad()};
  };
  const std::vector<Tensor> first = run(), second = run();
  for (size_t i = 0; i < first.size(); ++i) EXPECT_TRUE(all_equal(first[i], second[i])) << i;
}

// The weight gradient runs its chunks of samples (two 32x32 samples each here) one per thread on
// one-thread primitives when they divide evenly over the threads: then it is the one-thread
// result bit for bit, including a shorter last chunk; with an odd chunk count each chunk uses
// every thread. Both stay within float rounding of the double loops, for float and int8 inputs.
TEST(Conv2dKernels, WeightGradientChunksOverThreadsMatchOneThread) {
  const int saved = num_threads();
  const Conv2dParams p{1, 1, 1, 1, 1, 1, 1};
  for (const int64_t n : {8, 7, 6}) {
    Rng rng(static_cast<uint64_t>(40 + n));
    const Shape xs{n, 16, 32, 32}, ws{8, 16, 3, 3};
    const Tensor x = uniform(rng, xs), w = uniform(rng, ws);
    const ConvGeometry g = conv_geometry(xs, ws, p);
    const Tensor dy = uniform(rng, {g.n, g.c_out, g.out_h, g.out_w});
    Tensor x_i8(xs, DType::i8);
    for (int64_t i = 0; i < x.numel(); ++i)
      x_i8.data<int8_t>()[i] = static_cast<int8_t>(std::lround(x.f32()[i] * 127.0f));
    Tensor x_i8_f32(xs);
    for (int64_t i = 0; i < x.numel(); ++i) x_i8_f32.f32()[i] = x_i8.data<int8_t>()[i];
    const Tensor want = naive_conv2d(g, x, w, dy).dw;
    const Tensor want_i8 = naive_conv2d(g, x_i8_f32, w, dy).dw;
    std::vector<Tensor> dw, dw_i8;
    for (const int threads : {1, 2}) {
      set_num_threads(threads);
      Tensor d(ws), d8(ws), dx(xs);
      d.fill(7.0), d8.fill(7.0);
      conv2d_backward_weight_f32(g, x.f32(), dy.f32(), d.f32());
      conv2d_backward_f32(g, x_i8.data<int8_t>(), w.f32(), dy.f32(), dx.f32(), d8.f32());
      EXPECT_TRUE(all_close(d, want, 1e-5, 1e-4)) << n << " samples, " << threads << " threads";
      EXPECT_TRUE(all_close(d8, want_i8, 1e-5, 1e-2)) << n << " samples, int8, " << threads;
      dw.push_back(d);
      dw_i8.push_back(d8);
    }
    if (n != 6) {  // 4 chunks: one-thread primitives on 2 threads
      EXPECT_TRUE(all_equal(dw[0], dw[1])) << n << " samples";
      EXPECT_TRUE(all_equal(dw_i8[0], dw_i8[1])) << n << " samples, int8";
    }
  }
  set_num_threads(saved);
}

// ---- batch norm ----

struct BnCase {
  Tensor x, weight, bias;
  BatchNormState state;
};

BnCase bn_case(uint64_t seed) {
  Rng rng(seed);
  BnCase c{
      uniform(rng, {3, 2, 3, 2}, -2.0, 3.0), uniform(rng, {2}, 0.5, 1.5), uniform(rng, {2}),
      BatchNormState{uniform(rng, {2}), uniform(rng, {2}, 0.5, 2.0), Tensor(Shape{}, DType::i64)}};
  return c;
}

TEST(OpsGrad, BatchNormTrainingAndEval) {
  for (bool training : {true, false}) {
    BnCase c = bn_case(20);
    const Op op = [&c, training](const std::vector<Var>& v) {
      return batch_norm2d(v[0], v[1], v[2], c.state, training);
    };
    EXPECT_TRUE(gradients_match(op, {c.x, c.weight, c.bias})) << "training " << training;
  }
}

TEST(Ops, BatchNormTrainingNormalisesAndUpdatesRunningStats) {
  BnCase c = bn_case(21);
  const Tensor rm0 = c.state.running_mean.clone(), rv0 = c.state.running_var.clone();
  Var y = batch_norm2d(Var(c.x), Var(c.weight), Var(c.bias), c.state, true);
  const int64_t n = 3, ch = 2, plane = 6, count = n * plane;
  Tensor want({n, ch, 3, 2}, DType::f64);
  for (int64_t k = 0; k < ch; ++k) {
    double s = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < plane; ++j) s += c.x.f32()[(i * ch + k) * plane + j];
    const double m = s / count;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < plane; ++j)
        sq += std::pow(c.x.f32()[(i * ch + k) * plane + j] - m, 2);
    const double var = sq / count;  // biased: normalises
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < plane; ++j) {
        const int64_t at = (i * ch + k) * plane + j;
        want.data<double>()[at] =
            (c.x.f32()[at] - m) / std::sqrt(var + 1e-5) * c.weight.f32()[k] + c.bias.f32()[k];
      }
    EXPECT_NEAR(c.state.running_mean.f32()[k], 0.9 * rm0.f32()[k] + 0.1 * m, 1e-6);
    EXPECT_NEAR(c.state.running_var.f32()[k], 0.9 * rv0.f32()[k] + 0.1 * var * count / (count - 1),
                1e-6);  // unbiased
  }
  EXPECT_TRUE(all_close(y.value(), want, 1e-5, 1e-5));
  EXPECT_EQ(c.state.num_batches_tracked.data<int64_t>()[0], 1);
  batch_norm2d(Var(c.x), Var(c.weight), Var(c.bias), c.state, true);
  EXPECT_EQ(c.state.num_batches_tracked.data<int64_t>()[0], 2);
}

TEST(Ops, BatchNormEvalUsesRunningStatsAndChangesNothing) {
  BnCase c = bn_case(22);
  c.state.num_batches_tracked.data<int64_t>()[0] = 5;
  const Tensor rm0 = c.state.running_mean.clone(), rv0 = c.state.running_var.clone();
  Var y = batch_norm2d(Var(c.x), Var(c.weight), Var(c.bias), c.state, false);
  Tensor want(c.x.shape(), DType::f64);
  for (int64_t i = 0; i < c.x.numel(); ++i) {
    const int64_t k = (i / 6) % 2;
    want.data<double>()[i] =
        (c.x.f32()[i] - rm0.f32()[k]) / std::sqrt(rv0.f32()[k] + 1e-5) * c.weight.f32()[k] +
        c.bias.f32()[k];
  }
  EXPECT_TRUE(all_close(y.value(), want, 1e-5, 1e-5));
  EXPECT_TRUE(all_equal(c.state.running_mean, rm0));
  EXPECT_TRUE(all_equal(c.state.running_var, rv0));
  EXPECT_EQ(c.state.num_batches_tracked.data<int64_t>()[0], 5);
}

TEST(OpsGrad, BatchNormReluWithAndWithoutResidual) {
  for (bool training : {true, false})
    for (bool with_residual : {false, true}) {
      BnCase c = bn_case(24);
      Rng rng(25);
      const Tensor r = uniform(rng, c.x.shape(), -1.0, 1.0);
      const Op op = [&c, training, with_residual](const std::vector<Var>& v) {
        return batch_norm2d_relu(v[0], v[1], v[2], c.state, training,
                                 with_residual ? &v[3] : nullptr);
      };
      std::vector<Tensor> inputs = {c.x, c.weight, c.bias};
      if (with_residual) inputs.push_back(r);
      EXPECT_TRUE(gradients_match(op, inputs))
          << "training " << training << " residual " << with_residual;
    }
}

// The fused op against relu(batch_norm2d(x) + residual) one op at a time: the same values and
// gradients bit for bit, running statistics included, at a plane size that leaves SIMD tails.
TEST(Ops, BatchNormReluIsTheThreeOpsBitForBit) {
  for (bool training : {true, false})
    for (bool with_residual : {false, true}) {
      Rng rng(26);
      const Tensor x = uniform(rng, {4, 3, 9, 7}, -2.0, 2.0), w = uniform(rng, {3}, 0.5, 1.5),
                   b = uniform(rng, {3}, -0.5, 0.5), r = uniform(rng, {4, 3, 9, 7}, -1.0, 1.0),
                   g = uniform(rng, {4, 3, 9, 7}, -1.0, 1.0);
      auto state = [&] {
        Rng s(27);
        return BatchNormState{uniform(s, {3}), uniform(s, {3}, 0.5, 2.0),
                              Tensor(Shape{}, DType::i64)};
      };
      BatchNormState s1 = state(), s2 = state();
      Var x1(x.clone(), true), w1(w.clone(), true), b1(b.clone(), true), r1(r.clone(), true);
      Var x2(x.clone(), true), w2(w.clone(), true), b2(b.clone(), true), r2(r.clone(), true);
      Var y1 = batch_norm2d(x1, w1, b1, s1, training);
      if (with_residual) y1 = add(y1, r1);
      y1 = relu(y1);
      const Var y2 = batch_norm2d_relu(x2, w2, b2, s2, training, with_residual ? &r2 : nullptr);
      const std::string what = std::string(training ? "training" : "eval") +
                               (with_residual ? ", residual" : "");
      EXPECT_TRUE(all_equal(y1.value(), y2.value())) << what;
      EXPECT_TRUE(all_equal(s1.running_mean, s2.running_mean)) << what;
      EXPECT_TRUE(all_equal(s1.running_var, s2.running_var)) << what;
      backward(sum(mul(y1, Var(g))));
      backward(sum(mul(y2, Var(g))));
      EXPECT_TRUE(all_equal(x1.grad(), x2.grad())) << what;
      EXPECT_TRUE(all_equal(w1.grad(), w2.grad())) << what;
      EXPECT_TRUE(all_equal(b1.grad(), b2.grad())) << what;
      if (with_residual) EXPECT_TRUE(all_equal(r1.grad(), r2.grad())) << what;
      else EXPECT_FALSE(r2.has_grad());
      int64_t zeros = 0;  // the ReLU cut something, so its mask was exercised
      for (int64_t i = 0; i < y2.value().numel(); ++i) zeros += y2.value().f32()[i] == 0.0f;
      EXPECT_GT(zeros, 50) << what;
    }
}

TEST(Ops, BatchNormRejectsBadState) {
  BnCase c = bn_case(23);
  BatchNormState wrong{Tensor({3}), c.state.running_var, c.state.num_batches_tracked};
  EXPECT_THROW(batch_norm2d(Var(c.x), Var(c.weight), Var(c.bias), wrong, true), Error);
  EXPECT_THROW(batch_norm2d(Var(Tensor({1, 2, 1, 1})), Var(c.weight), Var(c.bias), c.state, true),
               Error);  // one value per channel has no variance
  const Var other(Tensor({3, 2, 3, 3}));
  EXPECT_NE(test::error_of([&] {
              batch_norm2d_relu(Var(c.x), Var(c.weight), Var(c.bias), c.state, true, &other);
            }).find("must have the input's shape"),
            std::string::npos);
}

// ---- losses ----

TEST(OpsGrad, CrossEntropyAndMse) {
  Rng rng(24);
  Tensor labels({5}, DType::i64);
  for (int64_t i = 0; i < 5; ++i) labels.data<int64_t>()[i] = (i * 3) % 4;
  EXPECT_TRUE(
      gradients_match([&](const std::vector<Var>& v) { return cross_entropy(v[0], labels); },
                      {uniform(rng, {5, 4}, -3.0, 3.0)}));
  const Tensor target = uniform(rng, {3, 4});
  EXPECT_TRUE(gradients_match([&](const std::vector<Var>& v) { return mse_loss(v[0], target); },
                              {uniform(rng, {3, 4})}));
}

TEST(Ops, CrossEntropyKnownValueAndStability) {
  Tensor labels({2}, DType::i64);
  labels.data<int64_t>()[0] = 2;
  labels.data<int64_t>()[1] = 0;
  Var logits(Tensor::from_vector({2, 3}, {1, 2, 3, 1, 1, 1}), true);
  Var loss = cross_entropy(logits, labels);
  const double row0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  EXPECT_NEAR(loss.value().item(), (row0 + std::log(3.0)) / 2, 1e-6);
  backward(loss);
  EXPECT_NEAR(logits.grad().f32()[3], (1.0 / 3 - 1) / 2, 1e-6);
  EXPECT_NEAR(logits.grad().f32()[4], (1.0 / 3) / 2, 1e-6);
  Var big(Tensor::from_vector({2, 3}, {1000, 0, -1000, 0, 0, 1000}));
  EXPECT_NEAR(cross_entropy(big, labels).value().item(), (2000.0 + 1000.0) / 2, 1e-3);
}

TEST(Ops, CrossEntropyRejectsBadLabels) {
  Var logits(Tensor({2, 3}));
  Tensor labels({2}, DType::i64);
  labels.data<int64_t>()[1] = 3;
  try {
    cross_entropy(logits, labels);
    FAIL() << "label 3 accepted for 3 classes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 3 at index 1 is outside [0, 3)"), std::string::npos)
        << e.what();
  }
  labels.data<int64_t>()[1] = -1;
  EXPECT_THROW(cross_entropy(logits, labels), Error);
  EXPECT_THROW(cross_entropy(logits, Tensor({2}, DType::i32)), Error);
  EXPECT_THROW(cross_entropy(logits, Tensor({3}, DType::i64)), Error);
}

TEST(Ops, MseKnownValue) {
  Var pred(Tensor::from_vector({2, 2}, {1, 2, 3, 4}), true);
  Var loss = mse_loss(pred, Tensor::from_vector({2, 2}, {0, 2, 5, 4}));
  EXPECT_FLOAT_EQ(loss.value().item(), 5.0f / 4);
  backward(loss);
  EXPECT_TRUE(all_equal(pred.grad(), Tensor::from_vector({2, 2}, {0.5, 0, -1, 0})));
  EXPECT_THROW(mse_loss(pred, Tensor({4})), Error);
}

// ---- NoGradGuard ----

TEST(Ops, NoGradGuardRecordsNoGraph) {
  Rng rng(25);
  Var x(uniform(rng, {2, 3, 4, 4}), true), w(uniform(rng, {3, 3, 3, 3}), true);
  Var gamma(Tensor::full({3}, 1.0f), true), beta(Tensor({3}), true);
  BatchNormState state{Tensor({3}), Tensor::full({3}, 1.0f), Tensor(Shape{}, DType::i64)};
  NoGradGuard no_grad;
  Conv2dParams pad1;
  pad1.pad_h = pad1.pad_w = 1;
  Var h = relu(batch_norm2d(conv2d(x, w, std::nullopt, pad1), gamma, beta, state, true));
  Var out = mean(mul(add_scalar(flatten(global_avg_pool2d(h)), 1.0), Var(Tensor::scalar(2.0f))));
  for (const Var& v : {h, out}) {
    EXPECT_FALSE(v.requires_grad());
    EXPECT_TRUE(v.node()->inputs.empty());
    EXPECT_FALSE(v.node()->backward);
  }
  EXPECT_THROW(backward(out), Error);
}

}  // namespace
}  // namespace chimera
