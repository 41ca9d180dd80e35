// Training progress for a person watching: on a terminal, one line redrawn in place (epoch,
// batch, loss, accuracy, images/s, ETA); otherwise (a log file, CI) a plain line every
// `plain_every_s` seconds and at the end of each epoch, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace chimera {

class Progress {
 public:
  Progress(std::FILE* out, int64_t epochs, int64_t batches_per_epoch, double plain_every_s = 10.0);
  // Forces terminal or plain output (tests); by default decided by isatty(out).
  void set_terminal(bool terminal) { terminal_ = terminal; }

  void start_epoch(int64_t epoch);  // 1-based
  void update(int64_t batch, double mean_loss, double accuracy, int64_t images);  // batch 1-based
  void end_epoch();

 private:
  std::string line(int64_t batch, double mean_loss, double accuracy) const;
  std::FILE* out_;
  bool terminal_;
  int64_t epochs_, batches_per_epoch_, epoch_ = 0;
  double plain_every_s_;
  int64_t images_ = 0;
  std::chrono::steady_clock::time_point run_start_, epoch_start_, last_print_;
  int64_t batches_done_total_ = 0;
  std::string last_line_;
};

}  // namespace chimera
