// BitLinear / BitConv2d against the reference's golden calls (three training-mode calls, one
// evaluation call), and the integer product against the float product of the same integers.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/kernels/conv2d_f32.h"
#include "engine/kernels/conv2d_i8t.h"
#include "engine/kernels/gemm_f32.h"
#include "engine/kernels/i8t_gemm.h"
#include "engine/ops/ops.h"
#include "golden.h"
#include "test_util.h"
#include "model/layers/bit_conv2d.h"
#include "model/layers/bit_linear.h"
#include "model/layers/embedding.h"
#include "model/layers/init.h"
#include "model/layers/linear.h"
#include "model/layers/shared_input.h"
#include "engine/threads.h"

namespace chimera {
namespace {

using nlohmann::json;

struct LayerCase {
  json params;
  Safetensors st;
};

LayerCase load_case(const std::string& name) {
  LayerCase c{json(), test::load_golden(name)};
  c.params = json::parse(c.st.metadata.at("params"));
  return c;
}

BitLayerOptions options_from(const json& p) {
  BitLayerOptions o;  // everything else as configs/default.yaml, which equals the defaults
  o.quant_mode = parse_quant_mode(p.at("mode").get<std::string>());
  o.warmup_steps = p.at("warmup_steps").get<int64_t>();
  if (!p.at("alpha_override").is_null()) o.alpha_override = p.at("alpha_override").get<double>();
  o.activation_grad = p.at("grad_variant").get<std::string>() == "seed" ? ActivationGrad::none
                                                                         : ActivationGrad::ste;
  return o;
}

// The parameter gradients of one call computed independently in double precision from the
// golden inputs: d weight = (beta * gamma) * sum over batch (and pixels) of grad_out * x_q.
Tensor reference_weight_grad(const Tensor& x, const Tensor& grad_out, const Shape& w_shape,
                             double gamma, const Conv2dParams& p) {
  const QuantizedActivations act = quantize_activations(x, 1e-6);
  const double scale = static_cast<double>(act.beta * static_cast<float>(gamma));
  const int8_t* xq = act.codes.data<int8_t>();
  const float* go = grad_out.f32();
  Tensor dw(w_shape, DType::f64);
  double* pw = dw.data<double>();
  if (w_shape.size() == 2) {
    const int64_t B = x.shape()[0], in = w_shape[1], out = w_shape[0];
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i)
        for (int64_t b = 0; b < B; ++b) pw[o * in + i] += scale * go[b * out + o] * xq[b * in + i];
    return dw;
  }
  const ConvGeometry g = conv_geometry(x.shape(), w_shape, p);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.c_out; ++o)
      for (int64_t c = 0; c < g.c_in; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j)
            for (int64_t oy = 0; oy < g.out_h; ++oy)
              for (int64_t ox = 0; ox < g.out_w; ++ox) {
                const int64_t iy = oy * p.stride_h - p.pad_h + i, ix = ox * p.stride_w - p.pad_w + j;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                pw[((o * g.c_in + c) * g.kh + i) * g.kw + j] +=
                    scale * go[((n * g.c_out + o) * g.out_h + oy) * g.out_w + ox] *
                    xq[((n * g.c_in + c) * g.h + iy) * g.w + ix];
              }
  return dw;
}

Tensor reference_bias_grad(const Tensor& grad_out, int64_t channels) {
  const int64_t inner = grad_out.numel() / (grad_out.shape()[0] * channels);
  Tensor db({channels}, DType::f64);
  for (int64_t n = 0; n < grad_out.shape()[0]; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i)
        db.data<double>()[c] += grad_out.f32()[(n * channels + c) * inner + i];
  return db;
}

// The reference's generator stored the parameter gradients of calls 0-2 by reference, so in
// the golden files they all hold call 3's values (checked here: every file has this). Those
// calls' parameter gradients are checked against an independent computation instead; call 3's
// against the golden values.
bool golden_param_grads_aliased(const Safetensors& st, int call) {
  if (call == 3) return false;
  const Tensor& a = st.at("call" + std::to_string(call) + ".grad_weight");
  const Tensor& b = st.at("call3.grad_weight");
  return std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Compares one call's outputs, gradients, buffers and stats with the golden values.
template <class Layer>
void check_call(Layer& layer, const Safetensors& st, int call, const Conv2dParams& p = {}) {
  const std::string k = "call" + std::to_string(call) + ".";
  SCOPED_TRACE(st.source + " " + k);
  layer.train(call < 3);
  for (Var& param : layer.parameters()) param.clear_grad();
  Var x(st.at(k + "x").clone(), true);
  Var y = layer.forward(x);
  backward(y, st.at(k + "grad_out"));

  EXPECT_TRUE(test::all_close(y.value(), st.at(k + "y"), 1e-6, 0.0));
  const Tensor gx = x.has_grad() ? x.grad() : Tensor::zeros_like(x.value());
  EXPECT_TRUE(test::all_close(gx, st.at(k + "grad_x"), 1e-5, 1e-6));
  EXPECT_TRUE(test::all_close(layer.quant.scale_ema, st.at(k + "scale_ema_after"), 1e-6, 0.0));
  EXPECT_TRUE(test::all_equal(layer.quant.forward_step, st.at(k + "forward_step_after")));

  const LayerStats s = layer.last_stats();
  Tensor stats({6}, DType::f64);
  double* ps = stats.data<double>();
  ps[0] = s.gamma;
  ps[1] = s.alpha;
  ps[2] = s.ternary.zero_ratio;
  ps[3] = s.ternary.plus_ratio;
  ps[4] = s.ternary.minus_ratio;
  ps[5] = s.ternary.effective_bits;
  EXPECT_TRUE(test::all_close(stats, st.at(k + "stats"), 1e-7, 1e-12));

  if (golden_param_grads_aliased(st, call)) {
    const Tensor dw = reference_weight_grad(st.at(k + "x"), st.at(k + "grad_out"),
                                            layer.weight_master.shape(), s.gamma, p);
    EXPECT_TRUE(test::all_close(layer.weight_master.grad(), dw, 1e-5, 1e-6));
    if (layer.bias) {
      EXPECT_TRUE(test::all_close(layer.bias->grad(),
                                  reference_bias_grad(st.at(k + "grad_out"), layer.bias->numel()),
                                  1e-5, 1e-6));
    }
  } else {
    EXPECT_TRUE(test::all_close(layer.weight_master.grad(), st.at(k + "grad_weight"), 1e-5, 1e-6));
    if (layer.bias) {
      EXPECT_TRUE(test::all_close(layer.bias->grad(), st.at(k + "grad_bias"), 1e-5, 1e-6));
    }
  }
}

template <class Layer>
void load_init(Layer& layer, const Safetensors& st) {
  std::map<std::string, Tensor> state{{"weight_master", st.at("init.weight_master")},
                                      {"scale_ema", st.at("init.scale_ema")},
                                      {"forward_step", st.at("init.forward_step")}};
  if (st.has("init.bias")) state["bias"] = st.at("init.bias");
  layer.load_state_dict(state);
}

class BitLinearGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(BitLinearGolden, MatchesReferenceCalls) {
  const LayerCase c = load_case(GetParam());
  Rng rng(0);
  BitLinear layer(c.params.at("in_features").get<int64_t>(),
                  c.params.at("out_features").get<int64_t>(), c.params.at("bias").get<bool>(),
                  options_from(c.params), rng);
  load_init(layer, c.st);
  for (int call = 0; call < 4; ++call) check_call(layer, c.st, call);
}

INSTANTIATE_TEST_SUITE_P(Golden, BitLinearGolden,
                         ::testing::Values("bitlinear_chimera_seed", "bitlinear_chimera_ste",
                                           "bitlinear_strict_bitnet_seed",
                                           "bitlinear_strict_bitnet_ste"));

class BitConvGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(BitConvGolden, MatchesReferenceCalls) {
  const LayerCase c = load_case(GetParam());
  Conv2dParams p;
  p.stride_h = p.stride_w = c.params.at("stride").get<int64_t>();
  p.pad_h = p.pad_w = c.params.at("padding").get<int64_t>();
  Rng rng(0);
  BitConv2d layer(c.params.at("in_channels").get<int64_t>(),
                  c.params.at("out_channels").get<int64_t>(),
                  c.params.at("kernel_size").get<int64_t>(), p, c.params.at("bias").get<bool>(),
                  options_from(c.params), rng);
  load_init(layer, c.st);
  for (int call = 0; call < 4; ++call) check_call(layer, c.st, call, p);
}

INSTANTIATE_TEST_SUITE_P(Golden, BitConvGolden,
                         ::testing::Values("bitconv3x3_chimera_seed", "bitconv3x3_chimera_ste",
                                           "bitconv3x3_strict_bitnet_seed",
                                           "bitconv3x3_strict_bitnet_ste",
                                           "bitconv1x1_chimera_override_seed",
                                           "bitconv1x1_chimera_override_ste"));

// ---- the integer product is the float product, bit for bit ----

Tensor random_codes(const Shape& shape, Rng& rng, int limit) {
  Tensor t(shape, DType::i8);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int8_t>()[i] = static_cast<int8_t>(rng.below(2 * limit + 1) - limit);
  return t;
}

void expect_conv_exact(const Shape& xs, const Shape& ws, const Conv2dParams& p, Rng& rng) {
  const ConvGeometry g = conv_geometry(xs, ws, p);
  const Tensor xq = random_codes(xs, rng, 127), wq = random_codes(ws, rng, 1);
  Tensor acc({g.n, g.c_out, g.out_h, g.out_w}, DType::i32);
  conv2d_i8t(g, xq.data<int8_t>(), wq.data<int8_t>(), acc.data<int32_t>());
  Tensor yf({g.n, g.c_out, g.out_h, g.out_w});
  const Tensor xf = xq.to(DType::f32), wf = wq.to(DType::f32);
  conv2d_forward_f32(g, xf.f32(), wf.f32(), yf.f32());
  EXPECT_TRUE(test::all_equal(acc.to(DType::f32), yf))
      << "x " << shape_str(xs) << " w " << shape_str(ws) << " stride " << p.stride_h << " pad "
      << p.pad_h;
}

TEST(IntegerProduct, ConvMatchesFloatOnGoldenShapes) {
  Rng rng(1);
  for (const char* name : {"bitconv3x3_chimera_seed", "bitconv1x1_chimera_override_seed"}) {
    const LayerCase c = load_case(name);
    Conv2dParams p;
    p.stride_h = p.stride_w = c.params.at("stride").get<int64_t>();
    p.pad_h = p.pad_w = c.params.at("padding").get<int64_t>();
    expect_conv_exact(c.st.at("call0.x").shape(), c.st.at("init.weight_master").shape(), p, rng);
  }
}

TEST(IntegerProduct, ConvMatchesFloatOnRandomShapes) {
  Rng rng(2);
  for (int trial = 0; trial < 24; ++trial) {
    Conv2dParams p;
    p.stride_h = p.stride_w = 1 + rng.below(2);
    const int64_t k = rng.below(2) ? 3 : 1;
    p.pad_h = p.pad_w = k == 3 ? rng.below(2) : 0;
    p.groups = rng.below(3) == 0 ? 2 : 1;
    const int64_t cin = p.groups * (1 + rng.below(5)), cout = p.groups * (1 + rng.below(6));
    const int64_t h = 3 + rng.below(9), w = 3 + rng.below(9);
    expect_conv_exact({1 + rng.below(3), cin, h, w}, {cout, cin / p.groups, k, k}, p, rng);
  }
}

TEST(IntegerProduct, LinearMatchesFloatOnGoldenAndRandomShapes) {
  Rng rng(3);
  std::vector<std::array<int64_t, 3>> shapes{{6, 10, 24}, {16, 4, 8}};  // golden, smoke
  for (int trial = 0; trial < 20; ++trial)
    shapes.push_back({1 + rng.below(40), 1 + rng.below(40), 1 + rng.below(300)});
  for (const auto& [m, n, k] : shapes) {
    const Tensor a = random_codes({m, k}, rng, 127), w = random_codes({n, k}, rng, 1);
    Tensor acc({m, n}, DType::i32);
    i8t_gemm(m, n, k, a.data<int8_t>(), k, w.data<int8_t>(), k, acc.data<int32_t>(), n);
    const Tensor af = a.to(DType::f32), wf = w.to(DType::f32);
    Tensor yf({m, n});
    gemm_f32(false, true, m, n, k, 1.0f, af.f32(), k, wf.f32(), k, 0.0f, yf.f32(), n);
    EXPECT_TRUE(test::all_equal(acc.to(DType::f32), yf)) << m << "x" << n << "x" << k;
  }
}

// ---- per-token activation scales (BitNet's absmax per row) ----

// Each row r quantized with its own beta_r = max|x_r| / 127 + eps; y_r = (beta_r * gamma) *
// (clip * acc_r), bit for bit the per-tensor rule applied to one row at a time; the gradients
// scale each row by beta_r * gamma (dx back by 1 / beta_r).
TEST(BitLayers, PerTokenScalesQuantizeEachRowOnItsOwn) {
  Rng rng(21);
  BitLayerOptions o;
  o.activation_scale = ActivationScale::token;
  o.warmup_steps = 0;
  BitLinear layer(37, 5, false, o, rng);
  Tensor x({4, 37});
  rng.fill_uniform(x, -1.0, 1.0);
  for (int64_t i = 0; i < 37; ++i) x.f32()[37 + i] *= 50.0f;  // row 1 far larger than the rest
  layer.eval();
  const QuantizedWeight q = layer.eval_weight();
  Var xv(x.clone(), true);
  const Var y = layer.forward(xv);
  Tensor dy({4, 5});
  rng.fill_uniform(dy, -1.0, 1.0);
  backward(y, dy);
  std::vector<double> dx_want(4 * 37, 0.0);
  for (int64_t r = 0; r < 4; ++r) {
    Tensor row({1, 37});
    std::memcpy(row.f32(), x.f32() + r * 37, 37 * sizeof(float));
    const QuantizedActivations a = quantize_activations(row, o.eps_beta);
    const float s = a.beta * q.gamma;
    for (int64_t c = 0; c < 5; ++c) {
      int32_t acc = 0;
      for (int64_t i = 0; i < 37; ++i)
        acc += a.codes.data<int8_t>()[i] * q.codes.data<int8_t>()[c * 37 + i];
      EXPECT_EQ(y.value().f32()[r * 5 + c], s * (q.clip * static_cast<float>(acc)))
          << "row " << r << " output " << c;
      for (int64_t i = 0; i < 37; ++i)
        dx_want[r * 37 + i] += static_cast<double>(q.gamma) * dy.f32()[r * 5 + c] *
                               q.codes.data<int8_t>()[c * 37 + i];
    }
  }
  for (int64_t i = 0; i < 4 * 37; ++i)
    EXPECT_NEAR(xv.grad().f32()[i], dx_want[i], 1e-5 * (1 + std::fabs(dx_want[i]))) << i;
  // Per tensor, the large row's beta would have flattened the small rows to few levels.
  o.activation_scale = ActivationScale::tensor;
  Rng rng2(21);
  BitLinear per_tensor(37, 5, false, o, rng2);
  per_tensor.eval();
  EXPECT_FALSE(test::all_equal(per_tensor.forward(Var(x)).value(), y.value()));
}

// Layers reading one input (q, k, v; gate and up) run as one batch in inference: each output is
// bit for bit that layer's own forward, at batch 1 (the GEMV), a few rows and a prompt-sized
// batch (panels), on 1 and 3 threads; in training mode they simply run one by one.
TEST(BitLayers, LayersSharingAnInputGiveTheirOwnForwardsBitForBit) {
  Rng rng(23);
  BitLayerOptions o;
  o.activation_scale = ActivationScale::token;
  o.warmup_steps = 0;
  std::vector<LinearLayer> layers(3);
  const int64_t outs[] = {96, 17, 5};
  for (int i = 0; i < 3; ++i) {
    layers[i].ternary = std::make_unique<BitLinear>(300, outs[i], /*bias=*/i == 1, o, rng);
    layers[i].ternary->eval();
    layers[i].ternary->set_fixed_weight(layers[i].ternary->eval_weight());
  }
  std::vector<LinearLayer*> ptrs{&layers[0], &layers[1], &layers[2]};
  const int saved = num_threads();
  for (const int64_t rows : {1, 7, 130}) {
    Tensor x({rows, 300});
    rng.fill_uniform(x, -2.0, 2.0);
    for (const int threads : {1, 3}) {
      SCOPED_TRACE("rows " + std::to_string(rows) + ", threads " + std::to_string(threads));
      set_num_threads(threads);
      NoGradGuard no_grad;
      for (LinearLayer* l : ptrs) EXPECT_TRUE(l->ternary->takes_shared_activations());
      const std::vector<Var> shared = linear_shared_input(ptrs, Var(x));
      ASSERT_EQ(shared.size(), 3u);
      for (int i = 0; i < 3; ++i) {
        const Var own = layers[i].forward(Var(x));
        ASSERT_EQ(shared[i].shape(), own.shape());
        std::vector<float> a(shared[i].value().f32(), shared[i].value().f32() + rows * outs[i]);
        std::vector<float> b(own.value().f32(), own.value().f32() + rows * outs[i]);
        EXPECT_EQ(test::bits(a), test::bits(b)) << "layer " << i;
      }
    }
  }
  set_num_threads(saved);
  // Recording a gradient, nothing is shared: every layer's own forward, with its graph.
  Tensor x({2, 300});
  rng.fill_uniform(x, -1.0, 1.0);
  EXPECT_FALSE(layers[0].ternary->takes_shared_activations());
  const Var xv(x, true);
  const std::vector<Var> separate = linear_shared_input(ptrs, xv);
  ASSERT_EQ(separate.size(), 3u);
  for (const Var& y : separate) EXPECT_TRUE(y.requires_grad());
}

TEST(BitLayers, PerTokenScalesAreForLinearLayersOnly) {
  Rng rng(22);
  BitLayerOptions o;
  o.activation_scale = ActivationScale::token;
  const std::string e =
      test::error_of([&] { BitConv2d(2, 3, 3, Conv2dParams{}, false, o, rng); });
  EXPECT_NE(e.find("activation_scale must be 'tensor'"), std::string::npos) << e;
  EXPECT_THROW(parse_activation_scale("channel"), Error);
}

// ---- behaviour the SPEC states outright ----

TEST(BitLayers, EvaluationChangesNoState) {
  Rng rng(4);
  BitLinear lin(8, 4, true, BitLayerOptions{}, rng);
  BitConv2d conv(3, 5, 3, Conv2dParams{1, 1, 1, 1, 1, 1, 1}, false, BitLayerOptions{}, rng);
  lin.eval();
  conv.eval();
  Tensor xl({2, 8}), xc({2, 3, 6, 6});
  rng.fill_normal(xl);
  rng.fill_normal(xc);
  const float s_lin = lin.quant.scale_ema.f32()[0], s_conv = conv.quant.scale_ema.f32()[0];
  for (int i = 0; i < 3; ++i) {
    lin.forward(Var(xl));
    conv.forward(Var(xc));
  }
  EXPECT_EQ(lin.quant.scale_ema.f32()[0], s_lin);
  EXPECT_EQ(conv.quant.scale_ema.f32()[0], s_conv);
  EXPECT_EQ(lin.quant.forward_step.data<int64_t>()[0], 0);
  EXPECT_EQ(conv.quant.forward_step.data<int64_t>()[0], 0);
}

TEST(BitLayers, WarmupGoesFromAlphaMinToAlphaTarget) {
  Rng rng(5);
  BitLayerOptions o;
  o.warmup_steps = 3;
  BitLinear lin(4, 2, false, o, rng);
  Tensor x({1, 4});
  rng.fill_normal(x);
  const double expected[] = {0.0, 0.35, 0.7, 0.7};
  for (double e : expected) {
    lin.forward(Var(x));
    EXPECT_DOUBLE_EQ(lin.last_stats().alpha, e);
  }
}

// The flip count: none before the second training forward; negating every weight keeps
// |w| (so the scale and the zeros) and flips every nonzero code; an eval forward changes nothing.
// No warm-up, so alpha (and with it the threshold) stays put between the steps.
TEST(BitLayers, FlipCountIsTheCodesChangedBetweenTrainingForwards) {
  Rng rng(7);
  BitLayerOptions options;
  options.warmup_steps = 0;
  BitLinear lin(16, 8, false, options, rng);
  lin.train();
  Tensor x({4, 16});
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = static_cast<float>(rng.normal());
  lin.forward(Var(x));
  const LayerStats first = lin.last_stats();
  EXPECT_FALSE(first.flips.has_value());
  EXPECT_EQ(first.weights, 16 * 8);
  const int64_t nonzero =
      std::llround((1.0 - first.ternary.zero_ratio) * static_cast<double>(first.weights));
  ASSERT_GT(nonzero, 0);
  float* w = lin.weight_master.value().f32();
  lin.forward(Var(x));  // same weights: nothing flips
  ASSERT_TRUE(lin.last_stats().flips.has_value());
  EXPECT_EQ(*lin.last_stats().flips, 0);
  for (int64_t i = 0; i < 16 * 8; ++i) w[i] = -w[i];
  lin.forward(Var(x));
  EXPECT_EQ(*lin.last_stats().flips, nonzero);
  EXPECT_DOUBLE_EQ(lin.last_stats().flip_rate(), static_cast<double>(nonzero) / 128.0);
  lin.eval();
  lin.forward(Var(x));
  EXPECT_EQ(*lin.last_stats().flips, nonzero);  // kept from the last step
}

// A loader builds its model under DeferredInit: parameters of zeros (written only where the
// loader writes them), nothing drawn from the Rng, and the usual initialisation again once the
// guard is gone.
TEST(BitLayers, DeferredInitBuildsZerosAndDrawsNothing) {
  Rng fresh(12), rng(12);
  {
    DeferredInit deferred;
    EXPECT_TRUE(DeferredInit::active());
    BitLinear bit(8, 4, true, BitLayerOptions{}, rng);
    Linear plain(8, 4, true, rng);
    Embedding embedding(5, 3, rng);
    for (const Var* v : {&bit.weight_master, &*bit.bias, &plain.weight, &*plain.bias,
                         &embedding.weight})
      EXPECT_TRUE(test::all_equal(v->value(), Tensor::zeros(v->shape())));
    EXPECT_EQ(bit.weight_master.shape(), (Shape{4, 8}));
    EXPECT_EQ(embedding.weight.shape(), (Shape{5, 3}));
    bit.weight_master.value().f32()[3] = 2.5f;  // writable like any parameter
    EXPECT_EQ(bit.weight_master.value().f32()[3], 2.5f);
  }
  EXPECT_FALSE(DeferredInit::active());
  EXPECT_EQ(rng.uniform(0.0, 1.0), fresh.uniform(0.0, 1.0));  // the guard drew nothing
  BitLinear drawn(8, 4, false, BitLayerOptions{}, rng);
  EXPECT_FALSE(test::all_equal(drawn.weight_master.value(),
                               Tensor::zeros(drawn.weight_master.shape())));
}

// A fixed weight on a linear layer keeps only its packed codes: the same forward, eval_weight()
// decodes the same codes back, the stats stay those of the codes, and a forward that records a
// gradient (an input gradient of a loaded model) gets the same gradient as before fixing.
TEST(BitLayers, FixedLinearWeightKeepsOnlyThePackedCodes) {
  Rng rng(13);
  BitLinear lin(130, 6, true, BitLayerOptions{}, rng);
  lin.eval();
  Tensor xt({3, 130});
  rng.fill_normal(xt);
  const QuantizedWeight q = lin.eval_weight();
  const LayerStats stats_before = lin.last_stats();
  auto forward_and_grad = [&](BitLinear& layer) {
    Var x(xt.clone(), true);
    const Var y = layer.forward(x);
    backward(sum(y));
    return std::make_pair(y.value().clone(), x.grad().clone());
  };
  const auto [y_before, dx_before] = forward_and_grad(lin);
  lin.set_fixed_weight(q);
  const auto [y_fixed, dx_fixed] = forward_and_grad(lin);
  EXPECT_TRUE(test::all_equal(y_fixed, y_before));
  EXPECT_TRUE(test::all_equal(dx_fixed, dx_before));
  EXPECT_TRUE(test::all_equal(lin.eval_weight().codes, q.codes));
  EXPECT_EQ(lin.eval_weight().gamma, q.gamma);
  const LayerStats stats = lin.last_stats();
  EXPECT_EQ(stats.ternary.zero_ratio, stats_before.ternary.zero_ratio);
  EXPECT_EQ(stats.weights, stats_before.weights);
  NoGradGuard no_grad;
  EXPECT_TRUE(test::all_equal(lin.forward(Var(xt)).value(), y_before));
}

TEST(BitLayers, RejectsBadShapesAndSettings) {
  Rng rng(6);
  BitLinear lin(8, 4, true, BitLayerOptions{}, rng);
  try {
    lin.forward(Var(Tensor({2, 7})));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[batch, 8]"), std::string::npos) << e.what();
  }
  BitLayerOptions bad;
  bad.rho_s = 1.5;
  EXPECT_THROW(BitLinear(8, 4, true, bad, rng), Error);
  EXPECT_THROW(BitConv2d(6, 4, 3, Conv2dParams{1, 1, 0, 0, 1, 1, 4}, false, BitLayerOptions{}, rng),
               Error);
  EXPECT_THROW(parse_quant_mode("ternary"), Error);
  EXPECT_THROW(parse_activation_grad("straight"), Error);
}

}  // namespace
}  // namespace chimera
