#include "engine/platform.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "engine/kernels/isa.h"
#include "engine/threads.h"

namespace chimera {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

std::string allowed_cpus() {
  const std::vector<int> ids = allowed_cpu_ids();
  if (ids.empty()) return "unknown";
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t last = i;  // the end of a run of consecutive ids
    while (last + 1 < ids.size() && ids[last + 1] == ids[last] + 1) ++last;
    if (!out.empty()) out += ',';
    out += std::to_string(ids[i]);
    if (last > i) {
      out += '-';
      out += std::to_string(ids[last]);
    }
    i = last + 1;
  }
  return out;
}

Platform platform() {
  Platform p;
  p.cpu = cpu_model();
  p.isa = isa_name(active_isa());
  p.best_isa = isa_name(best_isa());
  p.onednn_isa = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());
  p.openblas_core = openblas_get_corename();
  p.threads = num_threads();
  p.cpus = allowed_cpus();
  p.omp_wait = "OMP_WAIT_POLICY=" + env_or("OMP_WAIT_POLICY", "unset") +
               " GOMP_SPINCOUNT=" + env_or("GOMP_SPINCOUNT", "unset");
  return p;
}

std::string describe(const Platform& p) {
  return "cpu=\"" + p.cpu + "\" isa=" + p.isa + " (cpu best " + p.best_isa + ") onednn=" +
         p.onednn_isa + " openblas=" + p.openblas_core + " threads=" + std::to_string(p.threads) +
         " cpus=" + p.cpus + " " + p.omp_wait;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return std::round(static_cast<double>(usage.ru_maxrss) / 1024.0 * 10) / 10;
}

}  // namespace chimera
