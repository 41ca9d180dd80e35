// The transformer language model against its PyTorch twin (tests/lm_reference/make_lm_dump.py,
// the llm.c way): the same initial state and batch give the same logits, loss, every parameter
// gradient and quantizer buffers to 1e-4 of each tensor's scale, in fp32, chimera (grouped
// key/value heads, SwiGLU, per-token activations) and strict_bitnet (ReLU^2). Also the cached
// decoder against the full forward, and bad settings.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "golden.h"
#include "model/models/transformer_lm.h"
#include "test_util.h"

namespace chimera {
namespace {

using nlohmann::json;

TransformerOptions options_from(const json& c) {
  TransformerOptions o;
  o.mode = parse_model_mode(c.at("mode").get<std::string>());
  o.vocab_size = c.at("vocab_size").get<int64_t>();
  o.dim = c.at("dim").get<int64_t>();
  o.layers = c.at("layers").get<int64_t>();
  o.heads = c.at("heads").get<int64_t>();
  o.kv_heads = c.at("kv_heads").get<int64_t>();
  o.ffn_dim = c.at("ffn_dim").get<int64_t>();
  o.context = c.at("context").get<int64_t>();
  o.feed_forward = parse_feed_forward(c.at("feed_forward").get<std::string>());
  o.rope_theta = c.at("rope_theta").get<double>();
  o.norm_eps = c.at("norm_eps").get<double>();
  o.layer.alpha_target = c.at("alpha_target").get<double>();
  o.layer.warmup_steps = c.at("warmup_steps").get<int64_t>();
  o.layer.activation_scale = parse_activation_scale(c.at("activation_scale").get<std::string>());
  return o;
}

// |got - want| <= 1e-4 * max(|want|) over the tensor (and the shapes agree).
::testing::AssertionResult close_to_scale(const std::string& name, const Tensor& got,
                                          const Tensor& want) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << name << ": shape " << shape_str(got.shape())
                                         << " against " << shape_str(want.shape());
  const Tensor g = got.to(DType::f32), w = want.to(DType::f32);
  double scale = 0, worst = 0;
  for (int64_t i = 0; i < w.numel(); ++i) scale = std::max(scale, std::fabs(double{w.f32()[i]}));
  for (int64_t i = 0; i < w.numel(); ++i)
    worst = std::max(worst, std::fabs(double{g.f32()[i]} - w.f32()[i]));
  if (worst > 1e-4 * std::max(scale, 1e-6))
    return ::testing::AssertionFailure() << name << ": worst error " << worst << " at scale "
                                         << scale;
  return ::testing::AssertionSuccess();
}

Safetensors load_dump(const std::string& name) {
  return read_safetensors(std::string(CHIMERA_SOURCE_DIR) + "/tests/data/lm_" + name +
                          ".safetensors");
}

std::map<std::string, Tensor> with_prefix(const Safetensors& st, const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const auto& [k, v] : st.tensors)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

class LmAgainstTorch : public ::testing::TestWithParam<const char*> {};

TEST_P(LmAgainstTorch, OneTrainingStepMatches) {
  const Safetensors st = load_dump(GetParam());
  const TransformerOptions o = options_from(json::parse(st.metadata.at("config")));
  Rng rng(1);
  TransformerLM model(o, rng);
  model.load_state_dict(with_prefix(st, "init."));
  model.train();
  const Var logits = model.forward(st.at("ids"));
  const Var loss = cross_entropy(logits, st.at("targets"));
  backward(loss);
  EXPECT_TRUE(close_to_scale("logits", logits.value(), st.at("logits")));
  EXPECT_NEAR(loss.value().item(), st.at("loss").item(), 1e-5);
  int grads = 0;
  model.visit(
      [&](const std::string& name, Var& p) {
        ASSERT_TRUE(st.has("grad." + name)) << name;
        ASSERT_TRUE(p.has_grad()) << name << " received no gradient";
        EXPECT_TRUE(close_to_scale("grad." + name, p.grad(), st.at("grad." + name)));
        ++grads;
      },
      [&](const std::string& name, Tensor& buffer) {
        const Tensor& want = st.at("after." + name);
        if (want.dtype() == DType::i64)
          EXPECT_TRUE(test::all_equal(buffer, want)) << name;
        else
          EXPECT_TRUE(close_to_scale("after." + name, buffer, want));
      });
  EXPECT_EQ(grads, static_cast<int>(with_prefix(st, "grad.").size()));
  if (o.mode != ModelMode::fp32_baseline) {
    EXPECT_EQ(model.quantized_layers().size(), static_cast<size_t>(o.layers) *
                                                    (o.feed_forward == FeedForwardKind::swiglu ? 7 : 6));
  }
}

INSTANTIATE_TEST_SUITE_P(Dumps, LmAgainstTorch,
                         ::testing::Values("fp32_swiglu_gqa", "chimera_swiglu_gqa",
                                           "strict_relu2"));

// Decoding a token at a time with the key/value cache gives the full forward's logits.
TEST(TransformerLM, CachedDecodingMatchesTheFullForward) {
  for (const ModelMode mode : {ModelMode::fp32_baseline, ModelMode::chimera}) {
    TransformerOptions o;
    o.mode = mode;
    o.vocab_size = 19, o.dim = 16, o.layers = 2, o.heads = 4, o.kv_heads = 2, o.ffn_dim = 20;
    o.context = 10;
    o.layer.activation_scale = ActivationScale::token;
    Rng rng(3);
    TransformerLM model(o, rng);
    model.eval();
    NoGradGuard no_grad;
    Tensor ids({1, 7}, DType::i64);
    for (int64_t t = 0; t < 7; ++t) ids.data<int64_t>()[t] = (5 * t + 2) % 19;
    const Tensor full = model.forward(ids).value();
    KvCache cache = model.new_cache();
    Tensor prompt({1, 3}, DType::i64);
    for (int64_t t = 0; t < 3; ++t) prompt.data<int64_t>()[t] = ids.data<int64_t>()[t];
    Tensor got = model.forward_cached(prompt, cache).value();
    for (int64_t i = 0; i < 3 * 19; ++i) EXPECT_NEAR(got.f32()[i], full.f32()[i], 1e-5);
    for (int64_t t = 3; t < 7; ++t) {
      Tensor one({1, 1}, DType::i64);
      one.data<int64_t>()[0] = ids.data<int64_t>()[t];
      const Tensor step = model.forward_cached(one, cache).value();
      for (int64_t v = 0; v < 19; ++v)
        EXPECT_NEAR(step.f32()[v], full.f32()[t * 19 + v], 1e-5) << "position " << t;
    }
    EXPECT_EQ(cache.length, 7);
  }
}

TEST(TransformerLM, RejectsInconsistentSettingsAndLongInputs) {
  Rng rng(4);
  auto error_for = [&](auto change) {
    TransformerOptions o;
    change(o);
    return test::error_of([&] { TransformerLM model(o, rng); });
  };
  EXPECT_NE(error_for([](TransformerOptions& o) { o.heads = 3; }).find("must divide dim"),
            std::string::npos);
  EXPECT_NE(error_for([](TransformerOptions& o) { o.kv_heads = 3; }).find("must divide heads"),
            std::string::npos);
  EXPECT_NE(error_for([](TransformerOptions& o) { o.context = 0; }).find("context"),
            std::string::npos);
  EXPECT_NE(error_for([](TransformerOptions& o) { o.dim = 12, o.heads = 4; }).find("even"),
            std::string::npos);
  TransformerOptions o;
  o.context = 4, o.dim = 8, o.heads = 2, o.kv_heads = 1, o.layers = 1, o.ffn_dim = 8;
  TransformerLM model(o, rng);
  const std::string e = test::error_of([&] { model.forward(Tensor({1, 5}, DType::i64)); });
  EXPECT_NE(e.find("context of 4"), std::string::npos) << e;
}

}  // namespace
}  // namespace chimera
