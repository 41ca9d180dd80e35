#include "harness/experiments/bench_lm.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/platform.h"
#include "engine/rng.h"
#include "harness/experiments/lm_inference.h"
#include "harness/log/jsonl.h"

namespace chimera {

namespace {

// Seconds of one run of the test: pp (one forward of `tokens`) or tg (`tokens` forwards of one).
double run_once(TransformerLM& model, int64_t tokens, bool prompt, Rng& rng) {
  const int64_t vocab = model.options().vocab_size;
  KvCache cache = model.new_cache();
  const auto t0 = std::chrono::steady_clock::now();
  if (prompt) {
    Tensor ids({1, tokens}, DType::i64);
    for (int64_t i = 0; i < tokens; ++i)
      ids.data<int64_t>()[i] = rng.below(vocab);
    model.forward_cached(ids, cache);
  } else {
    Tensor one({1, 1}, DType::i64);
    for (int64_t i = 0; i < tokens; ++i) {
      one.data<int64_t>()[0] = rng.below(vocab);
      model.forward_cached(one, cache);
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void run_lm_bench(const LmBenchOptions& o, std::ostream& out) {
  CHIMERA_CHECK(o.prompt_tokens >= 0 && o.gen_tokens >= 0, "--prompt-tokens and --gen-tokens "
                "must be >= 0");
  CHIMERA_CHECK(o.repetitions >= 1, "--repetitions must be >= 1, got ", o.repetitions);
  const auto load_start = std::chrono::steady_clock::now();
  std::unique_ptr<TransformerLM> model = load_lm(o.checkpoint, o.model).model;
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const int64_t context = model->options().context;
  CHIMERA_CHECK(o.prompt_tokens <= context && o.gen_tokens <= context, "the model's context is ",
                context, " tokens: --prompt-tokens and --gen-tokens must fit in it");
  model->eval();
  NoGradGuard no_grad;
  out << "[bench_lm] " << describe(platform()) << " model=" << (o.model.empty() ? o.checkpoint : o.model)
      << " dim=" << model->options().dim << " layers=" << model->options().layers
      << " ternary=" << (model->quantized_layers().empty() ? "no" : "yes") << " load_s="
      << std::round(load_s * 1000) / 1000 << " load_peak_rss_mb=" << peak_rss_mb() << std::endl;
  Rng rng(7);
  for (const bool prompt : {true, false}) {
    const int64_t tokens = prompt ? o.prompt_tokens : o.gen_tokens;
    if (tokens == 0) continue;
    run_once(*model, tokens, prompt, rng);  // warm-up: caches, allocator, thread pool
    std::vector<double> rates;
    for (int r = 0; r < o.repetitions; ++r)
      rates.push_back(static_cast<double>(tokens) / run_once(*model, tokens, prompt, rng));
    double mean = 0, var = 0;
    for (double x : rates) mean += x / static_cast<double>(rates.size());
    for (double x : rates) var += (x - mean) * (x - mean);
    const double sd = rates.size() > 1 ? std::sqrt(var / static_cast<double>(rates.size() - 1)) : 0;
    const std::string test = (prompt ? "pp" : "tg") + std::to_string(tokens);
    if (o.json) {
      out << Json{{"test", test}, {"tokens_per_s", mean}, {"stddev", sd},
                  {"repetitions", o.repetitions}}.dump()
          << std::endl;
    } else {
      char line[128];
      std::snprintf(line, sizeof line, "%-8s %10.2f ± %.2f tokens/s", test.c_str(), mean, sd);
      out << line << std::endl;
    }
  }
  // Memory is a benchmark's to report (the tests never time or weigh anything): the most this
  // process held, model and key/value cache included.
  out << "[bench_lm] peak_rss_mb=" << peak_rss_mb() << std::endl;
}

}  // namespace chimera
