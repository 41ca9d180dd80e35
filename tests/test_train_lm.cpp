// train-lm, export, eval and generate of the language model: a resumed run is bit-identical to
// an uninterrupted one; a model file gives the checkpoint's eval logits bit for bit (every pack
// format); generation is reproducible from a seed; bad configs, prompts and model types give
// clear errors. The corpus is a small fortune folder the tests write.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/io/safetensors.h"
#include "harness/experiments/lm_inference.h"
#include "harness/experiments/train_lm.h"
#include "model/models/transformer_lm_file.h"
#include "golden.h"
#include "test_util.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

// 60 short English-like entries: 57 train, 3 validation (every 20th).
void write_corpus(const fs::path& dir) {
  std::string text;
  for (int i = 0; i < 60; ++i)
    text += "Entry " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog " +
            std::to_string(i * 7 % 13) + " times.\n%\n";
  test::write_bytes(dir / "quotes", text);
}

TrainLmArgs tiny_args(const fs::path& dir, const std::string& mode) {
  TrainLmArgs a;
  a.config = parse_config(R"(
warmup_steps: 3
activation_scale: token
transformer: {mode: chimera, dim: 16, layers: 1, heads: 2, kv_heads: 1, ffn_dim: 24, context: 16}
lm_training: {steps: 6, batch_size: 4, warmup_lr_steps: 2, eval_every: 3, eval_windows: 4,
              eval_batch: 2, control_every: 2, lr: 0.01})",
                          "tiny");
  a.mode = mode;
  a.corpus = (dir / "corpus").string();
  a.out_dir = (dir / "out").string();
  a.checkpoint_dir = (dir / "ckpt").string();
  a.progress = false;
  return a;
}

TEST(TrainLm, ResumedRunIsBitIdenticalToAnUninterruptedOne) {
  test::TempDir dir("chimera_train_lm_resume");
  write_corpus(dir.path / "corpus");
  std::ostringstream out;
  TrainLmArgs whole = tiny_args(dir.path, "chimera");
  whole.run_name = "whole";
  const TrainLmResult a = train_lm(whole, out);
  TrainLmArgs first = tiny_args(dir.path, "chimera");
  first.run_name = "split";
  first.stop_after = 3;
  train_lm(first, out);
  TrainLmArgs rest = tiny_args(dir.path, "chimera");
  rest.run_name = "split";
  rest.resume = (dir.path / "ckpt" / "split.safetensors").string();
  const TrainLmResult b = train_lm(rest, out);
  const Safetensors sa = read_safetensors(a.checkpoint_path);
  const Safetensors sb = read_safetensors(b.checkpoint_path);
  ASSERT_EQ(sa.tensors.size(), sb.tensors.size());
  for (const auto& [name, t] : sa.tensors)
    EXPECT_TRUE(test::all_equal(sb.at(name), t)) << name;
  EXPECT_EQ(a.final_record["loss"], b.final_record["loss"]);
  EXPECT_EQ(a.final_record["val_bits_per_byte"], b.final_record["val_bits_per_byte"]);
  // The split run's log holds steps 1-3 and then 4-6 (appended on resume).
  std::ifstream log(b.log_path);
  std::string line;
  int steps = 0;
  while (std::getline(log, line)) steps += line.find("\"record_type\":\"step\"") != std::string::npos;
  EXPECT_EQ(steps, 6);
}

// The records carry the loss, the learning rate and the ternary statistics of every step.
TEST(TrainLm, RecordsAndLearning) {
  test::TempDir dir("chimera_train_lm_records");
  write_corpus(dir.path / "corpus");
  std::ostringstream out;
  TrainLmArgs a = tiny_args(dir.path, "chimera");
  a.steps = 30;
  const TrainLmResult r = train_lm(a, out);
  std::ifstream log(r.log_path);
  std::string line;
  std::vector<Json> steps, evals;
  while (std::getline(log, line)) {
    const Json j = Json::parse(line);
    if (j["record_type"] == "step") steps.push_back(j);
    if (j["record_type"] == "eval") evals.push_back(j);
  }
  ASSERT_EQ(steps.size(), 30u);
  ASSERT_EQ(evals.size(), 10u);
  for (const char* k : {"loss", "lr", "grad_norm", "tokens_per_s", "global_zero_ratio",
                        "global_effective_bits", "gamma", "alpha_used_mean", "flip_rate",
                        "controller_error"})
    EXPECT_TRUE(steps.back().contains(k)) << k;
  EXPECT_EQ(steps[0]["tokens"], 64);
  EXPECT_GT(steps.back()["global_effective_bits"].get<double>(), 0.5);
  // A repetitive text is learned fast: validation well under 8 bits per byte (uniform).
  EXPECT_LT(evals.back()["val_bits_per_byte"].get<double>(),
            evals.front()["val_bits_per_byte"].get<double>() - 1.0);
}

// The Chimera21 optimizer trains the language model too (AdamW is the configs' default).
TEST(TrainLm, Chimera21TrainsIt) {
  test::TempDir dir("chimera_train_lm_chimera21");
  write_corpus(dir.path / "corpus");
  std::ostringstream out;
  TrainLmArgs a = tiny_args(dir.path, "chimera");
  a.optimizer = "chimera21";
  a.steps = 30;
  const TrainLmResult r = train_lm(a, out);
  EXPECT_EQ(r.final_record["optimizer_name"], "chimera21");
  std::ifstream log(r.log_path);
  std::string line;
  std::vector<double> bpb;
  while (std::getline(log, line)) {
    const Json j = Json::parse(line);
    if (j["record_type"] == "eval") bpb.push_back(j["val_bits_per_byte"].get<double>());
  }
  ASSERT_EQ(bpb.size(), 10u);
  EXPECT_LT(bpb.back(), bpb.front() - 1.0);
}

TEST(TrainLm, ModelFileGivesTheCheckpointsLogitsBitForBit) {
  test::TempDir dir("chimera_train_lm_export");
  write_corpus(dir.path / "corpus");
  std::ostringstream out;
  for (const char* mode : {"chimera", "strict_bitnet", "fp32_baseline"}) {
    TrainLmArgs a = tiny_args(dir.path, mode);
    a.steps = 4;
    const TrainLmResult r = train_lm(a, out);
    const Checkpoint c = load_checkpoint(r.checkpoint_path);
    auto from_checkpoint = lm_from_checkpoint(c, r.checkpoint_path);
    Tensor ids({2, 16}, DType::i64);
    for (int64_t i = 0; i < 32; ++i) ids.data<int64_t>()[i] = (i * 37 + 11) % 256;
    NoGradGuard no_grad;
    const Tensor want = from_checkpoint->forward(ids).value();
    for (const PackFormat f : {PackFormat::i2, PackFormat::tq1, PackFormat::entropy}) {
      const ModelFile file = export_lm(c, r.checkpoint_path, f, Json::object());
      EXPECT_EQ(file.ternary.size(), std::string(mode) == "fp32_baseline" ? 0u : 7u) << mode;
      auto from_file =
          transformer_lm_from_file(parse_model_file(serialize_model_file(file), "lm"));
      EXPECT_TRUE(test::all_equal(from_file->forward(ids).value(), want))
          << mode << " " << pack_format_name(f);
    }
  }
}

TEST(Generate, SameSeedSameTextAndCheckpointEqualsModelFile) {
  test::TempDir dir("chimera_generate");
  write_corpus(dir.path / "corpus");
  std::ostringstream out;
  TrainLmArgs a = tiny_args(dir.path, "chimera");
  a.steps = 10;
  const TrainLmResult r = train_lm(a, out);
  const std::string model_path = (dir.path / "lm.chm").string();
  write_model_file(model_path, export_lm(load_checkpoint(r.checkpoint_path), r.checkpoint_path,
                                         PackFormat::i2, Json::object()));
  GenerateArgs g;
  g.prompt = "Entry 4";
  g.max_tokens = 8;
  g.temperature = 1.0;
  const LanguageModel lm = load_lm(r.checkpoint_path, "");
  TransformerLM* model = lm.model.get();
  const ByteTokenizer bytes;
  const GenerateResult first = generate(*model, bytes, g), second = generate(*model, bytes, g);
  EXPECT_EQ(first.text, second.text);
  EXPECT_EQ(first.generated, 8);
  EXPECT_EQ(generate(*load_lm("", model_path).model, bytes, g).text, first.text);
  g.seed = 8;
  bool differs = false;
  for (uint64_t s = 8; s < 16 && !differs; ++s) {
    g.seed = s;
    differs = generate(*model, bytes, g).text != first.text;
  }
  EXPECT_TRUE(differs);
  // The context (16) ends generation: 7 prompt bytes + 9 generated at most.
  g.max_tokens = 100;
  const GenerateResult capped = generate(*model, bytes, g);
  EXPECT_TRUE(capped.stopped_at_context);
  EXPECT_EQ(capped.generated, 10);  // the last token needs no forward of its own
  g.prompt = std::string(17, 'x');
  const std::string e = test::error_of([&] { generate(*model, bytes, g); });
  EXPECT_NE(e.find("context is 16"), std::string::npos) << e;
}

TEST(Generate, SamplingRules) {
  const float logits[5] = {0.5f, 3.0f, 3.0f, -1.0f, 2.0f};
  Rng rng(1);
  EXPECT_EQ(sample_token(logits, 5, 0.0, 0, rng), 1);  // greedy: the first largest
  for (int i = 0; i < 50; ++i) {
    const int64_t t = sample_token(logits, 5, 1.0, 2, rng);  // top-2: the two 3.0s
    EXPECT_TRUE(t == 1 || t == 2) << t;
  }
}

TEST(TrainLm, BadConfigsModelsAndTypesAreClearErrors) {
  auto config_error = [](const std::string& yaml) {
    return test::error_of([&] { parse_config(yaml, "lm.yaml"); });
  };
  EXPECT_NE(config_error("transformer: {dim: 30, heads: 4}").find("must divide dim"),
            std::string::npos);
  EXPECT_NE(config_error("transformer: {context: 0}").find("context must be positive"),
            std::string::npos);
  EXPECT_NE(config_error("transformer: {kv_heads: 3}").find("must divide heads"),
            std::string::npos);
  EXPECT_NE(config_error("transformer: {feed_forward: gelu}").find("swiglu"), std::string::npos);
  EXPECT_NE(config_error("lm_training: {optimizer: sgd}").find("adamw or chimera21"),
            std::string::npos);
  EXPECT_NE(config_error("transformer: {depth: 3}").find("unknown key 'transformer.depth'"),
            std::string::npos);
  // A ResNet checkpoint is not a language model, and the other way round.
  test::TempDir dir("chimera_lm_types");
  Checkpoint resnet;
  resnet.model["fc.weight"] = Tensor({10, 64});
  const std::string path = (dir.path / "resnet.safetensors").string();
  save_checkpoint(path, resnet);
  const std::string e = test::error_of([&] { load_lm(path, ""); });
  EXPECT_NE(e.find("not a language-model checkpoint"), std::string::npos) << e;
  EXPECT_NE(test::error_of([&] { load_lm(path, path); }).find("exactly one of"),
            std::string::npos);
  const test::CliResult cli = test::run_chimera("generate --checkpoint " + path + " --prompt hi");
  EXPECT_NE(cli.code, 0);
  EXPECT_NE(cli.out.find("not a language-model checkpoint"), std::string::npos) << cli.out;
}

// The command line end to end on the tiny config: train, export, eval, generate.
TEST(TrainLmCli, TrainExportEvalGenerate) {
  test::TempDir dir("chimera_train_lm_cli");
  write_corpus(dir.path / "corpus");
  const std::string d = dir.path.string();
  const test::CliResult train = test::run_chimera(
      "train-lm --config " + std::string(CHIMERA_SOURCE_DIR) + "/configs/lm-tiny.yaml --steps 4 " +
      "--corpus " + d + "/corpus --out-dir " + d + "/out --checkpoint-dir " + d +
      "/ckpt --no-progress --threads 1");
  ASSERT_EQ(train.code, 0) << train.out;
  EXPECT_NE(train.out.find("[train_lm_final]"), std::string::npos) << train.out;
  const std::string ckpt = d + "/ckpt/train_lm_chimera_seed7.safetensors";
  ASSERT_TRUE(fs::exists(ckpt));
  ASSERT_EQ(test::run_chimera("export --checkpoint " + ckpt + " --out " + d + "/lm.chm").code, 0);
  const test::CliResult from_ckpt = test::run_chimera("eval --checkpoint " + ckpt + " --corpus " +
                                                      d + "/corpus --json --threads 1");
  const test::CliResult from_file = test::run_chimera("eval --model " + d + "/lm.chm --corpus " +
                                                      d + "/corpus --json --threads 1");
  ASSERT_EQ(from_ckpt.code, 0) << from_ckpt.out;
  ASSERT_EQ(from_file.code, 0) << from_file.out;
  const Json a = Json::parse(from_ckpt.out), b = Json::parse(from_file.out);
  EXPECT_EQ(a["val_loss"], b["val_loss"]);  // the same logits: the same loss to the last bit
  EXPECT_EQ(a["val_bits_per_byte"], b["val_bits_per_byte"]);
  EXPECT_EQ(a["tokens"], 160);
  const test::CliResult gen = test::run_chimera("generate --model " + d +
                                                "/lm.chm --prompt Entry --max-tokens 5 --json");
  ASSERT_EQ(gen.code, 0) << gen.out;
  EXPECT_EQ(Json::parse(gen.out.substr(gen.out.find('{')))["generated"], 5);
  const test::CliResult bad = test::run_chimera(
      "train-lm --config " + std::string(CHIMERA_SOURCE_DIR) + "/configs/lm-tiny.yaml --corpus " +
      d + "/missing --out-dir " + d + "/out2 --checkpoint-dir " + d + "/ckpt2 --no-progress");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("apt-get install fortunes"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace chimera
