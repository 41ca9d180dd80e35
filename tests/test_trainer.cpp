// The ResNet trainer end to end on the reference's smoke data: records, checkpoints, resume,
// evaluation of a checkpoint, and argument errors.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/threads.h"
#include "engine/io/safetensors.h"
#include "train/data/shapes_dataset.h"
#include "harness/experiments/eval_checkpoint.h"
#include "harness/experiments/train_resnet.h"
#include "test_util.h"
#include "train/trainer/checkpoint.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

TrainResnetArgs small_run(const fs::path& dir) {
  TrainResnetArgs a;
  a.synthetic = true;
  a.batch_size = 8;
  a.eval_batch_size = 8;
  a.max_batches = 2;
  a.eval_max_batches = 1;
  a.epochs = 2;
  a.controller_frequency = "batch";
  a.controller_affects = "alpha_override";
  a.checkpoint_dir = dir.string();
  a.progress = false;
  return a;
}

std::vector<Json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  std::vector<Json> out;
  for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
  return out;
}

bool same_tensors(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, t] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second.shape() != t.shape() || it->second.dtype() != t.dtype() ||
        std::memcmp(it->second.raw(), t.raw(), t.nbytes()) != 0)
      return false;
  }
  return true;
}

TEST(Trainer, RecordsFollowTheReferenceLayout) {
  set_num_threads(1);
  TempDir dir("chimera_trainer_records");
  TrainResnetArgs a = small_run(dir.path);
  a.log_jsonl = (dir.path / "log.jsonl").string();
  std::ostringstream out;
  train_resnet(a, out);
  const auto records = read_jsonl(a.log_jsonl);
  std::vector<std::string> types;
  for (const Json& r : records) types.push_back(r["record_type"]);
  const std::vector<std::string> expected{"batch", "batch", "epoch", "eval", "batch", "batch",
                                          "epoch", "eval",  "final", "summary"};
  EXPECT_EQ(types, expected);
  const Json& batch = records[0];
  for (const char* key : {"epoch", "batch_idx", "train_loss", "train_accuracy", "global_zero_ratio",
                          "global_effective_bits", "controller_error", "controller_update_delta",
                          "alpha_used_mean", "alpha_target_mean", "alpha_control_mean",
                          "alpha_next_mean", "target_zero_ratio", "split"})
    EXPECT_TRUE(batch.contains(key)) << key;
  EXPECT_EQ(batch["run_id"], "train_resnet_cifar-mode-chimera-seed-7");
  // batch-frequency override control: each batch moves the override by the step size
  EXPECT_NEAR(std::fabs(batch["controller_update_delta"].get<double>()), 0.05, 1e-12);
  EXPECT_EQ(records[3]["split"], "test");
  EXPECT_EQ(records[2]["test_loss"], records[3]["test_loss"]);
  EXPECT_EQ(records[8]["split"], "summary");
  const std::string console = out.str();
  EXPECT_NE(console.find("[resnet_cifar_batch] record_type=batch mode=chimera seed=7 step=1 "),
            std::string::npos);
  EXPECT_NE(console.find("[resnet_cifar_summary] record_type=summary mode=chimera"),
            std::string::npos);
}

TEST(Trainer, ResumeIsBitIdenticalToAnUninterruptedRun) {
  set_num_threads(2);
  TempDir dir("chimera_trainer_resume");
  std::ostringstream sink;
  TrainResnetArgs full = small_run(dir.path);
  full.augment = true;  // resume must also reproduce the augmentation draws
  full.run_name = "full";
  full.save_checkpoint = true;
  train_resnet(full, sink);

  TrainResnetArgs first = full;
  first.run_name = "part";
  first.epochs = 1;
  train_resnet(first, sink);
  TrainResnetArgs second = full;
  second.run_name = "resumed";
  second.resume = (dir.path / "part.safetensors").string();
  train_resnet(second, sink);

  const Checkpoint a = load_checkpoint((dir.path / "full.safetensors").string());
  const Checkpoint b = load_checkpoint((dir.path / "resumed.safetensors").string());
  EXPECT_TRUE(same_tensors(a.model, b.model)) << "model weights or buffers differ";
  EXPECT_TRUE(same_tensors(a.optimizer, b.optimizer)) << "optimizer state differs";
  EXPECT_EQ(a.metadata["trainer_state"], b.metadata["trainer_state"]);
  // and the checkpoint really moved: it is not the initial model
  const Checkpoint p = load_checkpoint((dir.path / "part.safetensors").string());
  EXPECT_FALSE(same_tensors(p.model, a.model));
}

TEST(Trainer, SameSeedSameThreadsSameRecords) {
  set_num_threads(2);
  TempDir dir("chimera_trainer_det");
  std::vector<std::vector<Json>> runs;
  for (int i = 0; i < 2; ++i) {
    TrainResnetArgs a = small_run(dir.path);
    a.log_jsonl = (dir.path / ("log" + std::to_string(i) + ".jsonl")).string();
    std::ostringstream sink;
    train_resnet(a, sink);
    runs.push_back(read_jsonl(a.log_jsonl));
    for (Json& r : runs.back()) {  // wall-clock fields are the only ones allowed to differ
      for (const char* clock : {"timestamp_utc", "train_images_per_s", "eval_images_per_s"}) {
        if (r.contains(clock) && std::string(clock) != "timestamp_utc") {
          EXPECT_TRUE(r.at(clock).is_number()) << clock;
        }
        r.erase(clock);
      }
    }
  }
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(Trainer, EvalOfTheCheckpointReproducesTheRunsLastEvaluation) {
  set_num_threads(1);
  TempDir dir("chimera_trainer_eval");
  TrainResnetArgs a = small_run(dir.path);
  a.save_checkpoint = true;
  a.run_name = "run";
  // A non-default warm-up with the controller on alpha_target: the eval alpha depends on both,
  // so the evaluation must take the run's config and controlled alphas from the checkpoint.
  a.config.layer.warmup_steps = 3;
  a.controller_affects = "alpha_target";
  a.controller_frequency = "epoch";
  a.log_jsonl = (dir.path / "log.jsonl").string();
  std::ostringstream sink;
  train_resnet(a, sink);
  const auto records = read_jsonl(a.log_jsonl);
  const Json& last_eval = records[7];
  ASSERT_EQ(last_eval["record_type"], "eval");
  EvalArgs e;
  e.checkpoint = (dir.path / "run.safetensors").string();
  e.synthetic = true;
  const Json r = eval_checkpoint(e);
  EXPECT_EQ(r["test_loss"].get<double>(), last_eval["test_loss"].get<double>());
  EXPECT_EQ(r["test_accuracy"].get<double>(), last_eval["test_accuracy"].get<double>());
  EXPECT_EQ(r["examples"], 8);
}

TEST(Trainer, InvalidArgumentsNameTheFlagAndWriteNothing) {
  TempDir dir("chimera_trainer_bad");
  const fs::path log = dir.path / "log.jsonl";
  std::ofstream(log) << "keep me\n";
  auto expect_flag_error = [&](TrainResnetArgs a, const std::string& fragment) {
    a.log_jsonl = log.string();
    std::ostringstream sink;
    try {
      train_resnet(a, sink);
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  TrainResnetArgs a = small_run(dir.path);
  auto with = [&](auto change) {
    TrainResnetArgs b = a;
    change(b);
    return b;
  };
  expect_flag_error(with([](auto& b) { b.device = "cuda"; }), "no CUDA");
  expect_flag_error(with([](auto& b) { b.epochs = 0; }), "--epochs");
  expect_flag_error(with([](auto& b) { b.batch_size = -1; }), "--batch-size");
  expect_flag_error(with([](auto& b) { b.mode = "ternary"; }), "--mode");
  expect_flag_error(with([](auto& b) { b.optimizer = "lion"; }), "--optimizer");
  expect_flag_error(with([](auto& b) { b.lr = -0.1; }), "--lr");
  expect_flag_error(with([](auto& b) { b.controller_frequency = "step"; }), "--controller-frequency");
  expect_flag_error(with([](auto& b) { b.controller_affects = "gamma"; }), "--controller-affects");
  expect_flag_error(with([](auto& b) { b.target_zero_ratio = 1.5; }), "--target-zero-ratio");
  expect_flag_error(with([](auto& b) { b.activation_grad = "straight"; }), "--activation-grad");
  expect_flag_error(with([](auto& b) { b.lr_schedule = "linear"; }), "--lr-schedule");
  expect_flag_error(with([](auto& b) { b.resume = "/nonexistent.safetensors"; }), "--resume");
  expect_flag_error(with([&](auto& b) { b.synthetic = false; b.dataset_root = dir.path.string(); }),
                    "CIFAR");
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "keep me") << "a failed start must not truncate the log";
}

}  // namespace
}  // namespace chimera

namespace chimera {
namespace {

TEST(Trainer, AStateDictWithoutMetadataNeedsOnlyTheControlledAlpha) {
  // What a state dict saved from the reference's PyTorch model carries: names and tensors only.
  set_num_threads(1);
  TempDir dir("chimera_trainer_plain_state");
  TrainResnetArgs a = small_run(dir.path);  // batch-frequency control of alpha_override
  a.save_checkpoint = true;
  a.run_name = "run";
  std::ostringstream sink;
  const TrainResnetResult run = train_resnet(a, sink);
  const Checkpoint c = load_checkpoint(run.checkpoint_path);
  const std::string plain = (dir.path / "plain.safetensors").string();
  write_safetensors(plain, c.model);
  write_synthetic_cifar((dir.path / "data").string(), 50, 20, 3);
  EvalArgs e;
  e.checkpoint = run.checkpoint_path;
  e.dataset_root = (dir.path / "data").string();
  const Json with_metadata = eval_checkpoint(e);
  EXPECT_EQ(with_metadata["examples"], 20);
  e.checkpoint = plain;
  e.batch_size = 8;  // the run's eval batch size, which the plain file does not record
  e.alpha_override = run.final_record["alpha_next_mean"].get<double>();
  EXPECT_EQ(eval_checkpoint(e), with_metadata);
}

}  // namespace
}  // namespace chimera
