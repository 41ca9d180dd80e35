// Crash safety: runs killed with SIGKILL at any moment (mid-write included) resume to the same
// weights; temporaries of dead writers are cleaned up; a full disk is an error that keeps the
// previous file; a flipped bit in a checkpoint is caught.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "test_util.h"
#include "train/trainer/checkpoint.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// Starts `chimera args...` with stdout and stderr to /dev/null; returns its pid.
pid_t spawn_chimera(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(CHIMERA_BINARY)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) _exit(126);
    ::execv(CHIMERA_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

bool has_temporary(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

std::vector<std::string> lm_args(const fs::path& dir, const std::string& resume) {
  std::vector<std::string> a{"train-lm", "--config", std::string(CHIMERA_SOURCE_DIR) + "/configs/lm-tiny.yaml",
                             "--steps", "120", "--checkpoint-every", "1", "--checkpoint-dir",
                             dir.string(), "--out-dir", dir.string(), "--run-name", "run",
                             "--no-progress", "--threads", "1"};
  if (!resume.empty()) a.insert(a.end(), {"--resume", resume});
  return a;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(CrashSafety, RunsKilledAtAnyMomentResumeToTheSameWeights) {
  TempDir straight("chimera_kill_straight"), killed("chimera_kill_killed");
  ASSERT_EQ(wait_exit(spawn_chimera(lm_args(straight.path, ""))), 0);
  const Checkpoint reference = load_checkpoint((straight.path / "run.safetensors").string());

  const std::string ckpt = (killed.path / "run.safetensors").string();
  int kills = 0, mid_write = 0;
  // Moments: after a delay (0 to 150 ms: start-up, data loading, training), or the instant a
  // checkpoint's temporary file appears (the write in progress).
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = spawn_chimera(lm_args(killed.path, fs::exists(ckpt) ? ckpt : ""));
    const auto start = std::chrono::steady_clock::now();
    const bool aim_at_write = round % 2 == 1;
    const auto delay = std::chrono::milliseconds(15 * round);
    bool exited = false;
    while (!exited) {
      int status;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      const bool now = aim_at_write ? has_temporary(killed.path)
                                    : std::chrono::steady_clock::now() - start >= delay;
      if (now) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ++kills;
        if (aim_at_write) ++mid_write;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (exited) break;  // the run finished between kills
  }
  EXPECT_GE(kills, 6);
  EXPECT_GE(mid_write, 2);
  // A leftover temporary of a killed writer is removed by the next write of the same file.
  ASSERT_EQ(wait_exit(spawn_chimera(lm_args(killed.path, fs::exists(ckpt) ? ckpt : ""))), 0);
  EXPECT_FALSE(has_temporary(killed.path));

  const Checkpoint resumed = load_checkpoint(ckpt);
  ASSERT_EQ(resumed.model.size(), reference.model.size());
  for (const auto& [name, t] : reference.model) {
    const Tensor& r = resumed.model.at(name);
    ASSERT_EQ(r.nbytes(), t.nbytes()) << name;
    EXPECT_EQ(std::memcmp(r.raw(), t.raw(), t.nbytes()), 0) << name << " differs after " << kills
                                                           << " kills";
  }
}

TEST(CrashSafety, TemporariesOfDeadWritersAreRemovedAndLiveOnesKept) {
  TempDir dir("chimera_stale_tmp");
  const fs::path target = dir.path / "model.safetensors";
  const pid_t dead = ::fork();
  if (dead == 0) _exit(0);
  ::waitpid(dead, nullptr, 0);
  const pid_t live = ::fork();
  if (live == 0) {
    ::pause();
    _exit(0);
  }
  const fs::path dead_tmp = dir.path / ("model.safetensors.tmp." + std::to_string(dead));
  const fs::path live_tmp = dir.path / ("model.safetensors.tmp." + std::to_string(live));
  const fs::path other = dir.path / ("other.safetensors.tmp." + std::to_string(dead));
  const fs::path not_ours = dir.path / "model.safetensors.tmp.notapid";
  for (const fs::path& p : {dead_tmp, live_tmp, other, not_ours}) test::write_bytes(p, "partial");

  write_file_atomic(target.string(), "complete");
  EXPECT_FALSE(fs::exists(dead_tmp));  // its writer is gone
  EXPECT_TRUE(fs::exists(live_tmp));   // a live process may still finish it
  EXPECT_TRUE(fs::exists(other));      // another file's temporary: not ours to judge here
  EXPECT_TRUE(fs::exists(not_ours));   // not our naming
  EXPECT_EQ(read_file(target.string()), "complete");
  EXPECT_EQ(remove_stale_temporaries((dir.path / "other.safetensors").string()), 1);
  ::kill(live, SIGKILL);
  ::waitpid(live, nullptr, 0);
}

// `ulimit -f` (bash: 1024-byte blocks) makes the file system refuse bytes past a size, as a
// full disk does.
test::CliResult run_limited(int kilobytes, const std::string& args) {
  return test::run_command("bash -c 'ulimit -f " + std::to_string(kilobytes) + "; exec " +
                           CHIMERA_BINARY + " " + args + "'");
}

TEST(CrashSafety, AFullDiskIsAnErrorAndThePreviousFileStays) {
  TempDir dir("chimera_full_disk");
  const std::string d = dir.path.string();
  const std::string train = "train-lm --config " + std::string(CHIMERA_SOURCE_DIR) +
                            "/configs/lm-tiny.yaml --no-progress --run-name run "
                            "--checkpoint-dir " + d + " --out-dir " + d;
  ASSERT_EQ(test::run_chimera(train).code, 0);
  const std::string ckpt = d + "/run.safetensors", log = d + "/run.jsonl";
  const std::string ckpt_before = read_file(ckpt), log_before = read_file(log);

  // Checkpoint (445 KB) past a 100 KB limit: the run fails naming the file, the old one stays.
  const test::CliResult c = run_limited(100, train + " --log-jsonl " + d + "/other.jsonl");
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.out.find("writing '" + ckpt + "' failed"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("File too large"), std::string::npos) << c.out;
  EXPECT_EQ(read_file(ckpt), ckpt_before);
  EXPECT_NO_THROW(load_checkpoint(ckpt));
  EXPECT_FALSE(has_temporary(dir.path));

  // The log past 20 KB: an error naming it, and only whole records in it.
  const test::CliResult l = run_limited(20, train);
  EXPECT_NE(l.code, 0);
  EXPECT_NE(l.out.find("writing the log '" + log + "' failed"), std::string::npos) << l.out;
  const std::string partial = read_file(log);
  ASSERT_FALSE(partial.empty());
  EXPECT_EQ(partial.back(), '\n');
  EXPECT_LE(partial.size(), size_t{20 * 1024});

  // An exported model file.
  const std::string model = d + "/run.chm";
  ASSERT_EQ(test::run_chimera("export --checkpoint " + ckpt + " --out " + model).code, 0);
  const std::string model_before = read_file(model);
  const test::CliResult m =
      run_limited(4, "export --checkpoint " + ckpt + " --format i2 --out " + model);
  EXPECT_NE(m.code, 0);
  EXPECT_NE(m.out.find("writing '" + model + "' failed"), std::string::npos) << m.out;
  EXPECT_EQ(read_file(model), model_before);
}

TEST(CrashSafety, AFlippedBitInACheckpointIsAnErrorNamingTheTensor) {
  TempDir dir("chimera_flipped_bit");
  Checkpoint c;
  c.model = {{"a.weight", Tensor::from_vector({2, 2}, {1, 2, 3, 4})},
             {"b.bias", Tensor::from_vector({3}, {5, 6, 7})}};
  c.optimizer = {{"step", Tensor({1}, DType::i64)}};
  const std::string path = (dir.path / "c.safetensors").string();
  save_checkpoint(path, c);
  EXPECT_NO_THROW(load_checkpoint(path));
  std::string bytes = read_file(path);
  // The data section ends with a.weight (16 bytes), b.bias (12), optimizer.step (8): sorted names.
  const size_t data_start = bytes.size() - (16 + 12 + 8);
  bytes[data_start + 16 + 5] ^= 0x10;  // a bit of b.bias's second value
  test::write_bytes(path, bytes);
  const std::string e = test::error_of([&] { load_checkpoint(path); });
  EXPECT_NE(e.find("tensor 'b.bias' does not match its SHA-256"), std::string::npos) << e;
  EXPECT_NE(e.find(path), std::string::npos) << e;

  // A state dict as PyTorch writes it (no metadata, so no checksums) still loads.
  write_safetensors(path, c.model, {});
  const Checkpoint plain = load_checkpoint(path);
  EXPECT_EQ(plain.model.at("b.bias").f32()[1], 6.0f);
}

}  // namespace
}  // namespace chimera
