// The main() of a fuzz target built without libFuzzer (g++, ctest). In order:
//   1. replays every file named on the command line, and every file inside a folder named there
//      (the target's regressions/ folder: inputs that once crashed, hung or over-allocated);
//      an input that takes longer than kSlowInputSeconds is a failure (a hang coming back);
//   2. feeds LLVMFuzzerTestOneInput `--iterations=N` (default 20000) inputs made from the
//      target's valid seeds by 1-4 random edits each: flip a byte, truncate, append garbage,
//      or the target's own edit. The generator is seeded, so a failure reproduces.
// `--write-seeds=DIR` instead writes the seeds as files (the corpus scripts/fuzz.sh starts
// libFuzzer from) and exits. Outside AddressSanitizer the address space is capped at
// kMemoryCapBytes, so an allocation a parser should have refused fails loudly here too.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <new>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace chimera::fuzz {

inline constexpr double kSlowInputSeconds = 2.0;
inline constexpr uint64_t kMemoryCapBytes = uint64_t{3} << 30;

using Edit = std::function<void(std::string& bytes, std::mt19937_64& rng)>;

// False (and a message) when the input allocated past the cap or ran too long.
inline bool feed(const std::string& b, const std::string& label) {
  const auto start = std::chrono::steady_clock::now();
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "FAIL %s: allocation beyond %llu bytes\n", label.c_str(),
                 static_cast<unsigned long long>(kMemoryCapBytes));
    return false;
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s > kSlowInputSeconds) {
    std::fprintf(stderr, "FAIL %s: took %.1f s (limit %.1f s)\n", label.c_str(), s,
                 kSlowInputSeconds);
    return false;
  }
  return true;
}

inline std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void cap_memory() {
#if !defined(__SANITIZE_ADDRESS__) && !defined(CHIMERA_ASAN)
  const rlimit limit{kMemoryCapBytes, kMemoryCapBytes};
  setrlimit(RLIMIT_AS, &limit);
#endif
}

inline int run_main(int argc, char** argv, const char* name, const std::vector<std::string>& seeds,
                    const Edit& own_edit) {
  namespace fs = std::filesystem;
  int64_t iterations = 20000;
  std::vector<fs::path> replay;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      iterations = std::stoll(arg.substr(13));
    } else if (arg.rfind("--write-seeds=", 0) == 0) {
      const fs::path dir = arg.substr(14);
      fs::create_directories(dir);
      for (size_t s = 0; s < seeds.size(); ++s)
        std::ofstream(dir / ("seed" + std::to_string(s)), std::ios::binary) << seeds[s];
      std::printf("%s: %zu seeds written to %s\n", name, seeds.size(), dir.c_str());
      return 0;
    } else if (fs::is_directory(arg)) {
      for (const auto& e : fs::directory_iterator(arg))
        if (e.is_regular_file()) replay.push_back(e.path());
    } else {
      replay.push_back(arg);
    }
  }
  cap_memory();
  bool ok = true;
  for (const fs::path& p : replay) ok = feed(file_bytes(p), p.string()) && ok;
  for (size_t s = 0; s < seeds.size(); ++s) ok = feed(seeds[s], "seed " + std::to_string(s)) && ok;
  std::mt19937_64 rng(12345);
  for (int64_t it = 0; it < iterations; ++it) {
    std::string b = seeds[static_cast<size_t>(it) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:  // flip a byte
          b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
          break;
        case 1:  // truncate
          b.resize(rng() % (b.size() + 1));
          break;
        case 2:  // append garbage
          b.append(1 + rng() % 16, static_cast<char>(rng()));
          break;
        default:
          own_edit(b, rng);
      }
      if (b.empty()) break;
    }
    ok = feed(b, "mutation " + std::to_string(it)) && ok;
  }
  std::printf("%s: %zu files replayed, %zu seeds, %lld mutated inputs: %s\n", name, replay.size(),
              seeds.size(), static_cast<long long>(iterations), ok ? "no failure" : "FAILED");
  return ok ? 0 : 1;
}

// The common edit of binary formats: an 8-byte little-endian field somewhere set to an
// extreme (all ones) or a small count, the values that reach size and offset checks.
inline void set_u64_somewhere(std::string& b, std::mt19937_64& rng) {
  if (b.size() <= 8) return;
  const size_t at = rng() % (b.size() - 8);
  const uint64_t v = rng() % 2 ? ~uint64_t{0} : rng() % 64;
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
}

}  // namespace chimera::fuzz
