#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "engine/io/safetensors.h"
#include "harness/log/progress.h"
#include "train/trainer/checkpoint.h"
#include "train/trainer/lr_schedule.h"
#include "test_util.h"

namespace chimera {
namespace {

TEST(LrSchedule, ConstantCosineStep) {
  EXPECT_DOUBLE_EQ(lr_at_epoch(LrSchedule::constant, 0.1, 7, 10), 0.1);
  EXPECT_DOUBLE_EQ(lr_at_epoch(LrSchedule::cosine, 0.1, 0, 10), 0.1);
  EXPECT_NEAR(lr_at_epoch(LrSchedule::cosine, 0.1, 5, 10), 0.05, 1e-15);
  EXPECT_NEAR(lr_at_epoch(LrSchedule::cosine, 0.1, 9, 10), 0.1 * 0.5 * (1 + std::cos(M_PI * 0.9)), 1e-15);
  EXPECT_DOUBLE_EQ(lr_at_epoch(LrSchedule::step, 0.1, 4, 10), 0.1);
  EXPECT_NEAR(lr_at_epoch(LrSchedule::step, 0.1, 5, 10), 0.01, 1e-15);
  EXPECT_NEAR(lr_at_epoch(LrSchedule::step, 0.1, 8, 10), 0.001, 1e-15);
  EXPECT_THROW(lr_at_epoch(LrSchedule::cosine, 0.1, 10, 10), Error);
  EXPECT_THROW(parse_lr_schedule("linear"), Error);
  EXPECT_EQ(parse_lr_schedule(lr_schedule_name(LrSchedule::step)), LrSchedule::step);
}

TEST(Progress, PlainOutputIsPeriodicLinesWithEtaAndRate) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* mem = open_memstream(&buf, &len);
  {
    Progress p(mem, 2, 3, /*plain_every_s=*/0.0);
    p.set_terminal(false);
    p.start_epoch(1);
    p.update(1, 2.5, 0.25, 64);
    p.update(2, 2.0, 0.5, 64);
    p.end_epoch();
  }
  std::fclose(mem);
  const std::string out(buf, len);
  std::free(buf);
  EXPECT_NE(out.find("[progress] epoch 1/2 ["), std::string::npos) << out;
  EXPECT_NE(out.find("2/3 loss 2.0000 acc  50.0%"), std::string::npos) << out;
  EXPECT_NE(out.find("img/s ETA "), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << "no carriage returns when not a terminal";
}

TEST(Progress, TerminalOutputRedrawsOneLine) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* mem = open_memstream(&buf, &len);
  {
    Progress p(mem, 1, 2);
    p.set_terminal(true);
    p.start_epoch(1);
    p.update(1, 1.0, 0.0, 8);
    p.update(2, 1.0, 0.0, 8);
    p.end_epoch();
  }
  std::fclose(mem);
  const std::string out(buf, len);
  std::free(buf);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 3);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(Checkpoint, RoundTripSeparatesModelOptimizerAndMetadata) {
  test::TempDir dir("chimera_ckpt");
  const auto path = (dir.path / "ckpt.safetensors").string();
  Checkpoint c;
  c.model["conv1.weight"] = Tensor::full({2, 3}, 1.5f);
  Tensor step({}, DType::i64);
  step.data<int64_t>()[0] = 7;
  c.optimizer["state.0.step"] = step;
  c.metadata["metrics"] = {{"test_accuracy", 0.5}};
  save_checkpoint(path, c);
  const Checkpoint d = load_checkpoint(path);
  ASSERT_EQ(d.model.size(), 1u);
  EXPECT_EQ(d.model.at("conv1.weight").f32()[5], 1.5f);
  EXPECT_EQ(d.optimizer.at("state.0.step").data<int64_t>()[0], 7);
  EXPECT_EQ(d.metadata.at("metrics").at("test_accuracy"), 0.5);
  EXPECT_EQ(d.metadata.at("engine_version"), CHIMERA_VERSION);
  // A plain state dict (as saved from PyTorch) loads as a model-only checkpoint.
  write_safetensors(path, {{"fc.bias", Tensor::full({10}, 0.0f)}});
  const Checkpoint e = load_checkpoint(path);
  EXPECT_EQ(e.model.size(), 1u);
  EXPECT_TRUE(e.optimizer.empty());
  write_safetensors(path, {{"fc.bias", Tensor::full({10}, 0.0f)}}, {{"format", "other-9"}});
  EXPECT_THROW(load_checkpoint(path), Error);
}

}  // namespace
}  // namespace chimera
