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
#include "spm_vocabulary.h"
#include "test_util.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

fs::path node_folder() {
  const fs::path node_dir = fs::path(CHIMERA_BUILD_DIR) / "node-llama-cpp";
  EXPECT_TRUE(fs::exists(node_dir / "node_modules" / "node-llama-cpp"))
      << "node-llama-cpp is not installed in " << node_dir << ": run scripts/setup.sh";
  return node_dir;
}

// Runs tests/llama_cpp/SCRIPT with `args` in the node folder; its stdout parsed as JSON.
Json run_node(const std::string& script, const std::string& args, const fs::path& work) {
  const fs::path node_dir = node_folder();
  fs::copy_file(fs::path(CHIMERA_SOURCE_DIR) / "tests/llama_cpp" / script, node_dir / script,
                fs::copy_options::overwrite_existing);
  const std::string cmd = "cd '" + node_dir.string() + "' && node " + script + " " + args +
                          " > '" + (work / "node.out").string() + "' 2> '" +
                          (work / "node.err").string() + "'";
  const int rc = std::system(cmd.c_str());
  std::ifstream err(work / "node.err");
  const std::string err_text((std::istreambuf_iterator<char>(err)),
                             std::istreambuf_iterator<char>());
  if (rc != 0) ADD_FAILURE() << "llama.cpp (node-llama-cpp) failed: " << script << " " << args << ": " << err_text;
  std::ifstream in(work / "node.out");
  return rc == 0 ? Json::parse(in) : Json();
}

std::string windows_json(const std::vector<TokenBatch>& windows) {
  Json all = Json::array();
  for (const TokenBatch& w : windows)
    all.push_back(std::vector<int64_t>(w.ids.data<int64_t>(), w.ids.data<int64_t>() + w.ids.numel()));
  return all.dump();
}

TEST(LlamaCppAgreement, TernaryModelPredictsTheSameNextBytesAsTq2AndTq1) {
  ASSERT_TRUE(fs::exists(node_folder() / "node_modules" / "node-llama-cpp"));
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
  test::write_bytes(dir.path / "windows.json", windows_json(windows));
  NoGradGuard no_grad;
  std::vector<Tensor> ours;
  for (const TokenBatch& w : windows) ours.push_back(model->forward(w.ids).value());  // [64, 256]

  for (const GgmlType type : {GgmlType::tq2_0, GgmlType::tq1_0}) {
    const std::string gguf = (dir.path / (std::string(ggml_type_name(type)) + ".gguf")).string();
    write_gguf(gguf, transformer_lm_to_gguf(*model, type, "agreement"));
    const Json probs = run_node("next_token_probs.mjs",
                                "'" + gguf + "' '" + (dir.path / "windows.json").string() + "' 1",
                                dir.path);
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

// A LLaMA-family vocabulary (SentencePiece, learned here from the training text, with a
// user-defined token): llama.cpp and our tokenizer must give the same ids for every validation
// entry and for edge cases, and a float model over that vocabulary the same predictions.
TEST(LlamaCppAgreement, SentencePieceVocabularyTokenizesAndPredictsAsLlamaCpp) {
  ASSERT_TRUE(fs::exists(node_folder() / "node_modules" / "node-llama-cpp"));
  test::TempDir dir("chimera_llama_cpp_spm");
  const TextCorpus corpus = load_fortunes();
  const SpmTokenizer tokenizer(
      test::learn_spm_vocabulary(corpus.train.substr(0, 200000), 300, {"<sep>"}));
  std::vector<std::string> texts = {
      "x", " leading space", "two  spaces and a trailing one ", "tab\tand\nnewline\n\n",
      "a<sep>b<sep>", "<s> is text here, not a control token </s>", "   ",
      "na\xc3\xafve caf\xc3\xa9 \xe2\x82\xac100 \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac"};
  for (size_t at = 0; at + 300 <= corpus.validation.size() && texts.size() < 200; at += 300)
    texts.push_back(corpus.validation.substr(at, 300));
  Json json = Json::array();
  std::vector<std::string> valid;
  for (const std::string& t : texts) {
    try {
      (void)Json(t).dump();  // JavaScript strings are Unicode: skip a cut through a character
      valid.push_back(t);
      json.push_back(t);
    } catch (const std::exception&) {
    }
  }
  ASSERT_GE(valid.size(), 150u);
  test::write_bytes(dir.path / "texts.json", json.dump());

  TransformerOptions o;
  o.vocab_size = tokenizer.vocab_size();
  o.dim = 64, o.layers = 2, o.heads = 4, o.kv_heads = 2, o.ffn_dim = 128, o.context = 64;
  o.mode = ModelMode::fp32_baseline;
  Rng rng(11);
  TransformerLM model(o, rng);
  model.eval();
  const std::string gguf = (dir.path / "spm.gguf").string();
  write_gguf(gguf, transformer_lm_to_gguf(model, GgmlType::f32, "spm", &tokenizer));

  const Json theirs = run_node("tokenize.mjs", "'" + gguf + "' '" + (dir.path / "texts.json").string() + "'", dir.path);
  ASSERT_EQ(theirs.size(), valid.size());
  size_t same = 0, tokens = 0;
  for (size_t i = 0; i < valid.size(); ++i) {
    const std::vector<int64_t> ours = tokenizer.encode(valid[i], false);
    tokens += ours.size();
    const bool equal = theirs[i].get<std::vector<int64_t>>() == ours;
    same += equal;
    EXPECT_TRUE(equal) << "text " << i << ": '" << valid[i] << "'\nllama.cpp: " << theirs[i].dump()
                       << "\nours:      " << Json(ours).dump();
  }
  std::printf("llama.cpp agreement (SentencePiece, %lld tokens): identical ids for %zu of %zu "
              "texts (%zu tokens)\n",
              static_cast<long long>(tokenizer.vocab_size()), same, valid.size(), tokens);

  const std::vector<TokenBatch> windows =
      validation_windows(tokenizer.encode(corpus.validation, false), 64, 1, 4);
  test::write_bytes(dir.path / "windows.json", windows_json(windows));
  const Json probs = run_node("next_token_probs.mjs", "'" + gguf + "' '" +
                              (dir.path / "windows.json").string() + "' 1 " +
                              std::to_string(tokenizer.vocab_size()), dir.path);
  ASSERT_EQ(probs.size(), windows.size());
  NoGradGuard no_grad;
  const int64_t V = tokenizer.vocab_size();
  int64_t top1 = 0, positions = 0;
  double worst = 0;
  for (size_t w = 0; w < windows.size(); ++w) {
    const Tensor z = model.forward(windows[w].ids).value();  // [64, V]
    for (int64_t t = 0; t < 64; ++t) {
      const float* row = z.f32() + t * V;
      const float top = *std::max_element(row, row + V);
      double sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(double{row[v]} - top);
      int64_t mine = 0, their = 0;
      for (int64_t v = 0; v < V; ++v) {
        const double p = probs[w][t][v].get<double>(), q = std::exp(double{row[v]} - top) / sum;
        if (row[v] > row[mine]) mine = v;
        if (p > probs[w][t][their].get<double>()) their = v;
        if (p > 1e-4 && q > 1e-4) worst = std::max(worst, std::fabs(std::log(p / q)));
      }
      top1 += mine == their;
      ++positions;
    }
  }
  std::printf("llama.cpp agreement (SentencePiece float model): top-1 identical on %lld of %lld "
              "positions, largest log-probability difference %.2e\n",
              static_cast<long long>(top1), static_cast<long long>(positions), worst);
  EXPECT_GE(top1 * 100, positions * 99);
  // Float weights both sides, but llama.cpp keeps keys and values in F16 and multiplies the
  // queries in F16 too: measured 0.14 here, where the ternary models above differ by more.
  EXPECT_LT(worst, 0.25);
}

}  // namespace
}  // namespace chimera
