#include "harness/experiments/bench_resnet.h"

#include <array>
#include <chrono>
#include <cstdio>

#include "engine/ops/ops.h"
#include "engine/platform.h"
#include "engine/threads.h"
#include "model/models/resnet20.h"
#include "train/optim/adam.h"

namespace chimera {

using Clock = std::chrono::steady_clock;

Json bench_resnet_one(const std::string& mode, const std::string& activation_grad, int64_t batch,
                      int64_t steps, int threads) {
  CHIMERA_CHECK(batch > 0, "--batch must be positive, got ", batch);
  CHIMERA_CHECK(steps > 0, "--steps must be positive, got ", steps);
  set_num_threads(threads);
  ResNet20Options options;
  options.mode = parse_model_mode(mode);
  options.layer.activation_grad = parse_activation_grad(activation_grad);
  Rng rng(0);
  ChimeraResNet20 model(options, rng);
  AdamOptions adam;
  adam.lr = 1e-3;
  Adam optimizer(model.parameters(), adam);
  Tensor x({batch, 3, 32, 32});
  rng.fill_normal(x);
  Tensor y({batch}, DType::i64);
  for (int64_t i = 0; i < batch; ++i) y.data<int64_t>()[i] = rng.below(10);

  auto train_step = [&] {
    optimizer.zero_grad();
    backward(cross_entropy(model.forward(Var(x)), y));
    optimizer.step();
  };
  auto eval_step = [&] {
    NoGradGuard no_grad;
    model.forward(Var(x));
  };
  auto rate = [&](auto&& step) {
    for (int i = 0; i < 3; ++i) step();
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return static_cast<double>(batch * steps) / s;
  };
  model.train();
  const double train = rate(train_step);
  model.eval();
  const double eval = rate(eval_step);
  return {{"engine", std::string("chimera-") + CHIMERA_VERSION},
          {"mode", mode},
          {"activation_grad", mode == "fp32_baseline" ? "n/a" : activation_grad},
          {"batch", batch},
          {"threads", threads},
          {"train_images_per_s", std::round(train * 10) / 10},
          {"eval_images_per_s", std::round(eval * 10) / 10},
          {"peak_rss_mb", peak_rss_mb()},
          {"platform", describe(platform())}};
}

static Json run_child(const std::string& self_exe, const std::string& mode,
                      const std::string& grad, const BenchResnetOptions& o) {
  const std::string cmd = "'" + self_exe + "' bench resnet --one " + mode + " --activation-grad " +
                          grad + " --batch " + std::to_string(o.batch) + " --steps " +
                          std::to_string(o.steps) + " --threads " + std::to_string(o.threads);
  FILE* pipe = popen(cmd.c_str(), "r");
  CHIMERA_CHECK(pipe != nullptr, "cannot start the benchmark process '", cmd, "'");
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
  const int status = pclose(pipe);
  CHIMERA_CHECK(status == 0, "benchmark process for ", mode, "/", grad, " failed: ", text);
  return Json::parse(text);
}

void bench_resnet(const BenchResnetOptions& o, const std::string& self_exe, std::ostream& out) {
  set_num_threads(o.threads);  // what the children run with, for the platform line
  if (!o.json) {
    out << "platform: " << describe(platform()) << "\n";
    char line[160];
    std::snprintf(line, sizeof line, "%-14s %-5s %6s %8s %14s %14s %10s\n", "mode", "grad", "batch",
                  "threads", "train img/s", "eval img/s", "peak MB");
    out << line;
  }
  for (const std::string& mode : o.modes)
    for (const std::string& grad : o.activation_grads) {
      const Json r = run_child(self_exe, mode, grad, o);
      if (o.json) {
        out << r.dump() << std::endl;
      } else {
        char line[160];
        std::snprintf(line, sizeof line, "%-14s %-5s %6lld %8d %14.1f %14.1f %10.1f\n",
                      mode.c_str(), r["activation_grad"].get<std::string>().c_str(),
                      static_cast<long long>(o.batch), o.threads,
                      r["train_images_per_s"].get<double>(), r["eval_images_per_s"].get<double>(),
                      r["peak_rss_mb"].get<double>());
        out << line << std::flush;
      }
      if (mode == "fp32_baseline") break;  // no activation rounding to vary
    }
}

}  // namespace chimera
