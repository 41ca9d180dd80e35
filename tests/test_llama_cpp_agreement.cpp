// Our GGUF export run by llama.cpp itself (its prebuilt CPU library through node-llama-cpp,
// which scripts/setup.sh installs into the build folder): a small ternary model trained here,
// written as TQ2_0 and as TQ1_0, must predict the same next byte as our engine on >= 99 % of the validation
// positions. llama.cpp quantizes activations per block of 256 (q8_K) where we take one absmax
// per token, and holds gamma as a half, so the probabilities differ slightly; the largest
// log-probability difference is printed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/ops/ops.h"
#include "harness/experiments/lm_inference.h"
#include "harness/experiments/train_lm.h"
#include "model/models/transformer_lm_gguf.h"
#include "test_util.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

TEST(LlamaCppAgreement, TernaryModelPredictsTheSameNextBytesAsTq2AndTq1) {
  const fs::path node_dir = fs::path(CHIMERA_BUILD_DIR) / "node-llama-cpp";
  ASSERT_TRUE(fs::exists(node_dir / "node_modules" / "node-llama-cpp"))
      << "node-llama-cpp is not installed in " << node_dir << ": run scripts/setup.sh";
  test::TempDir dir("chimera_llama_cpp");
  TrainLmArgs a;
  a.config = parse_config(R"(
warmup_steps: 5
activation_scale: token
transformer: {mode: chimera, dim: 256, layers: 2, heads: 4, kv_heads: 2, ffn_dim: 512, context: 64}
lm_training: {steps: 60, batch_size: 8, warmup_lr_steps: 5, eval_every: 60, eval_windows: 4,
              eval_batch: 4, lr: 0.003})",
                          "agreement");
  a.out_dir = (dir.path / "out").string();
  a.checkpoint_dir = (dir.path / "ckpt").string();
  a.progress = false;
  std::ostringstream log;
  const TrainLmResult r = train_lm(a, log);
  auto model = lm_from_checkpoint(load_checkpoint(r.checkpoint_path), r.checkpoint_path);
  // 8 validation windows of 64 bytes: 512 positions.
  const std::vector<TokenBatch> windows =
      validation_windows(byte_tokens(load_fortunes().validation), 64, 1, 8);
  std::string json = "[";
  for (size_t w = 0; w < windows.size(); ++w) {
    json += w ? ",[" : "[";
    for (int64_t t = 0; t < 64; ++t) {
      if (t) json += ',';
      json += std::to_string(windows[w].ids.data<int64_t>()[t]);
    }
    json += "]";
  }
  json += "]";
  test::write_bytes(dir.path / "windows.json", json);
  fs::copy_file(fs::path(CHIMERA_SOURCE_DIR) / "tests/llama_cpp/next_token_probs.mjs",
                node_dir / "next_token_probs.mjs", fs::copy_options::overwrite_existing);
  NoGradGuard no_grad;
  std::vector<Tensor> ours;
  for (const TokenBatch& w : windows) ours.push_back(model->forward(w.ids).value());  // [64, 256]

  for (const GgmlType type : {GgmlType::tq2_0, GgmlType::tq1_0}) {
    const std::string gguf = (dir.path / (std::string(ggml_type_name(type)) + ".gguf")).string();
    write_gguf(gguf, transformer_lm_to_gguf(*model, type, "agreement"));
    const std::string cmd = "cd '" + node_dir.string() + "' && node next_token_probs.mjs '" +
                            gguf + "' '" + (dir.path / "windows.json").string() + "' 1 > '" +
                            (dir.path / "probs.json").string() + "' 2> '" +
                            (dir.path / "node.err").string() + "'";
    const int rc = std::system(cmd.c_str());
    std::ifstream err(dir.path / "node.err");
    const std::string err_text((std::istreambuf_iterator<char>(err)),
                               std::istreambuf_iterator<char>());
    ASSERT_EQ(rc, 0) << "llama.cpp (node-llama-cpp) failed on " << ggml_type_name(type) << ": "
                     << err_text;
    std::ifstream in(dir.path / "probs.json");
    const Json probs = Json::parse(in);
    ASSERT_EQ(probs.size(), windows.size());
    int64_t same = 0, positions = 0;
    double worst_logp = 0;
    for (size_t w = 0; w < windows.size(); ++w) {
      for (int64_t t = 0; t < 64; ++t) {
        const float* z = ours[w].f32() + t * 256;
        const float top = *std::max_element(z, z + 256);
        double sum = 0;
        for (int v = 0; v < 256; ++v) sum += std::exp(double{z[v]} - top);
        int mine = 0, theirs = 0;
        for (int v = 0; v < 256; ++v) {
          if (z[v] > z[mine]) mine = v;
          const double p = probs[w][t][v].get<double>();
          if (p > probs[w][t][theirs].get<double>()) theirs = v;
          const double q = std::exp(double{z[v]} - top) / sum;
          if (p > 1e-4 && q > 1e-4) worst_logp = std::max(worst_logp, std::fabs(std::log(p / q)));
        }
        same += mine == theirs;
        ++positions;
      }
    }
    std::printf("llama.cpp agreement (%s): top-1 identical on %lld of %lld positions (%.2f %%), "
                "largest log-probability difference %.4f\n",
                ggml_type_name(type), static_cast<long long>(same),
                static_cast<long long>(positions), 100.0 * same / positions, worst_logp);
    EXPECT_GE(same * 100, positions * 99) << ggml_type_name(type);
  }
}

}  // namespace
}  // namespace chimera
