#include "harness/experiments/inspect_model.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "engine/io/atomic_file.h"
#include "model/models/model_file.h"
#include "model/quant/ternary_stats.h"

namespace chimera {

namespace {

double ratio(double a, double b) {
  return b > 0 ? a / b : 0.0;
}

std::string format_line(const char* fmt, auto... values) {
  std::array<char, 256> buf;
  std::snprintf(buf.data(), buf.size(), fmt, values...);
  return std::string(buf.data()) + "\n";
}

}  // namespace

Json inspect_model(const std::string& path) {
  const std::string bytes = read_file(path);
  const ModelFile file = parse_model_file(bytes, path);
  Json ternary = Json::array(), floats = Json::array();
  std::array<int64_t, 3> counts{};  // codes -1, 0, +1 over all layers
  int64_t weights = 0, payload = 0, stored = 0;
  double weighted_bits = 0;
  for (const auto& [name, t] : file.ternary) {
    const Tensor codes = unpack_codes(t.packed);
    const TernaryStats s = ternary_stats(codes);
    const int64_t n = codes.numel();
    const auto layer_bytes = static_cast<int64_t>(serialized_bytes(t.packed));
    const int8_t* q = codes.data<int8_t>();
    for (int64_t i = 0; i < n; ++i) ++counts[q[i] + 1];
    ternary.push_back({{"name", name},
                       {"shape", t.shape},
                       {"weights", n},
                       {"zero_ratio", s.zero_ratio},
                       {"effective_bits", s.effective_bits},
                       {"bits_per_weight", bits_per_weight(t.packed)},
                       {"payload_bytes", t.packed.header.payload_bytes},
                       {"bytes", layer_bytes},
                       {"compression_vs_f32", ratio(4.0 * n, layer_bytes)},
                       {"gamma", t.packed.header.scale},
                       {"alpha", t.alpha}});
    weights += n;
    payload += t.packed.header.payload_bytes;
    stored += layer_bytes;
    weighted_bits += s.effective_bits * static_cast<double>(n);
  }
  int64_t float_values = 0, float_bytes = 0;
  for (const auto& [name, t] : file.floats) {
    floats.push_back(
        {{"name", name}, {"shape", t.shape()}, {"values", t.numel()}, {"bytes", t.nbytes()}});
    float_values += t.numel();
    float_bytes += static_cast<int64_t>(t.nbytes());
  }
  const double total = static_cast<double>(weights);
  const double pooled_bits =
      weights == 0 ? 0.0
                   : entropy_from_ratios(counts[1] / total, counts[2] / total, counts[0] / total);
  const auto file_bytes = static_cast<int64_t>(bytes.size());
  const int64_t float32_bytes = 4 * (weights + float_values);
  Json totals = {{"ternary_weights", weights},
                 {"effective_bits", pooled_bits},
                 {"layer_effective_bits", ratio(weighted_bits, total)},
                 {"bits_per_weight", ratio(8.0 * static_cast<double>(payload), total)},
                 {"ternary_payload_bytes", payload},
                 {"ternary_bytes", stored},
                 {"float_values", float_values},
                 {"float_bytes", float_bytes},
                 {"header_bytes", file_bytes - stored - float_bytes},
                 {"file_bytes", file_bytes},
                 {"float32_bytes", float32_bytes},
                 {"compression_vs_f32", ratio(float32_bytes, file_bytes)}};
  return {{"file", path},
          {"file_bytes", file_bytes},
          {"format_version", kModelFileVersion},
          {"description", file.description},
          {"ternary", ternary},
          {"float", floats},
          {"totals", totals}};
}

std::string format_inspect(const Json& r) {
  const Json& d = r["description"];
  const Json& m = d.value("model", Json::object());
  std::string out = format_line(
      "%s: chimera model file v%d, %lld bytes", r["file"].get<std::string>().c_str(),
      r["format_version"].get<int>(), static_cast<long long>(r["file_bytes"].get<int64_t>()));
  out += format_line("model: %s %s%s, %lld classes; ternary packed as %s; engine %s",
                     m.value("architecture", "?").c_str(), m.value("mode", "?").c_str(),
                     m.value("first_last_fp32", false) ? " (first/last layer float32)" : "",
                     static_cast<long long>(m.value("num_classes", int64_t{0})),
                     d.value("pack_format", "?").c_str(), d.value("engine_version", "?").c_str());
  if (d.contains("source"))
    out += format_line("source: %s (sha256 %.16s...)", d["source"].value("checkpoint", "?").c_str(),
                       d["source"].value("sha256", "?").c_str());
  int w = 16;  // the name column fits every name
  for (const char* table : {"ternary", "float"})
    for (const Json& t : r[table])
      w = std::max(w, static_cast<int>(t["name"].get<std::string>().size()));
  if (!r["ternary"].empty()) {
    out += format_line("\n%-*s %-16s %8s %6s %8s %7s %8s %7s", w, "ternary layer", "shape",
                       "weights", "zeros", "eff_bits", "bits/w", "bytes", "vs_f32");
    for (const Json& t : r["ternary"])
      out += format_line(
          "%-*s %-16s %8lld %6.3f %8.4f %7.4f %8lld %6.2fx", w,
          t["name"].get<std::string>().c_str(), shape_str(t["shape"].get<Shape>()).c_str(),
          static_cast<long long>(t["weights"].get<int64_t>()), t["zero_ratio"].get<double>(),
          t["effective_bits"].get<double>(), t["bits_per_weight"].get<double>(),
          static_cast<long long>(t["bytes"].get<int64_t>()), t["compression_vs_f32"].get<double>());
  }
  out += format_line("\n%-*s %-16s %8s %8s", w, "float32 tensor", "shape", "values", "bytes");
  for (const Json& t : r["float"])
    out += format_line("%-*s %-16s %8lld %8lld", w, t["name"].get<std::string>().c_str(),
                       shape_str(t["shape"].get<Shape>()).c_str(),
                       static_cast<long long>(t["values"].get<int64_t>()),
                       static_cast<long long>(t["bytes"].get<int64_t>()));
  const Json& s = r["totals"];
  auto n = [&](const char* key) { return static_cast<long long>(s[key].get<int64_t>()); };
  out += format_line(
      "\ntotal: %lld ternary weights, effective bits %.4f (per layer %.4f), "
      "stored at %.4f bits/weight: %lld bytes (payload %lld)",
      n("ternary_weights"), s["effective_bits"].get<double>(),
      s["layer_effective_bits"].get<double>(), s["bits_per_weight"].get<double>(),
      n("ternary_bytes"), n("ternary_payload_bytes"));
  out += format_line("       %lld float32 values: %lld bytes; header and description: %lld bytes",
                     n("float_values"), n("float_bytes"), n("header_bytes"));
  out += format_line("       file %lld bytes vs %lld as float32: %.2fx smaller", n("file_bytes"),
                     n("float32_bytes"), s["compression_vs_f32"].get<double>());
  return out;
}

}  // namespace chimera
