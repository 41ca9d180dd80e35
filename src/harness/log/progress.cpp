#include "harness/log/progress.h"

#include <unistd.h>

#include <cmath>

namespace chimera {

using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

static std::string clock_text(double seconds) {
  const long s = std::lround(std::max(seconds, 0.0));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

Progress::Progress(std::FILE* out, int64_t epochs, int64_t batches_per_epoch, double plain_every_s)
    : out_(out),
      terminal_(::isatty(::fileno(out)) != 0),
      epochs_(epochs),
      batches_per_epoch_(batches_per_epoch),
      plain_every_s_(plain_every_s),
      run_start_(Clock::now()),
      epoch_start_(run_start_),
      last_print_(run_start_) {}

void Progress::start_epoch(int64_t epoch) {
  epoch_ = epoch;
  images_ = 0;
  epoch_start_ = Clock::now();
}

std::string Progress::line(int64_t batch, double mean_loss, double accuracy) const {
  const double elapsed = seconds_since(epoch_start_);
  const double rate = elapsed > 0 ? static_cast<double>(images_) / elapsed : 0.0;
  const double per_batch = seconds_since(run_start_) / std::max<int64_t>(batches_done_total_, 1);
  const int64_t remaining = epochs_ * batches_per_epoch_ - batches_done_total_;
  const int width = 24;
  const int filled = static_cast<int>(width * batch / std::max<int64_t>(batches_per_epoch_, 1));
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "epoch %lld/%lld [%s%s] %lld/%lld loss %.4f acc %5.1f%% %.0f img/s ETA %s",
                static_cast<long long>(epoch_), static_cast<long long>(epochs_),
                std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                static_cast<long long>(batch), static_cast<long long>(batches_per_epoch_),
                mean_loss, 100.0 * accuracy, rate,
                clock_text(per_batch * static_cast<double>(remaining)).c_str());
  return buf;
}

void Progress::update(int64_t batch, double mean_loss, double accuracy, int64_t images) {
  images_ += images;
  ++batches_done_total_;
  last_line_ = line(batch, mean_loss, accuracy);
  if (terminal_) {
    std::fprintf(out_, "\r\033[K%s", last_line_.c_str());
    std::fflush(out_);
  } else if (seconds_since(last_print_) >= plain_every_s_) {
    std::fprintf(out_, "[progress] %s\n", last_line_.c_str());
    std::fflush(out_);
    last_print_ = Clock::now();
  }
}

void Progress::end_epoch() {
  if (last_line_.empty()) return;
  if (terminal_) std::fprintf(out_, "\r\033[K%s\n", last_line_.c_str());
  else std::fprintf(out_, "[progress] %s\n", last_line_.c_str());
  std::fflush(out_);
  last_print_ = Clock::now();
}

}  // namespace chimera
