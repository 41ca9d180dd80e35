#include "harness/experiments/inspect_model.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "engine/io/atomic_file.h"
#include "engine/io/gguf.h"
#include "model/models/model_file.h"
#include "model/models/transformer_lm_gguf.h"
#include "model/quant/pack_tq1_0.h"
#include "model/quant/pack_tq2_0.h"
#include "model/quant/ternary_stats.h"
#include "model/tokenizers/tokenizer_gguf.h"

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

Json inspect_gguf(const std::string& path) {
  const std::string bytes = read_file(path);
  const GgufFile f = parse_gguf(bytes, path);
  auto text = [&](const char* key) {
    const GgufValue* v = f.find(key);
    return v && v->type == GgufValueType::string ? Json(std::get<std::string>(v->scalar)) : Json();
  };
  Json model = Json::object();
  for (const auto& [field, key] :
       {std::pair<const char*, const char*>{"dim", "llama.embedding_length"},
        {"layers", "llama.block_count"}, {"heads", "llama.attention.head_count"},
        {"kv_heads", "llama.attention.head_count_kv"}, {"ffn_dim", "llama.feed_forward_length"},
        {"context", "llama.context_length"}}) {
    try {
      if (const auto v = gguf_uint_if_any(f, key, path)) model[field] = *v;
    } catch (const Error&) {  // not an integer: the loader's verdict below names it
    }
  }
  Json tokenizer;
  try {
    const auto t = tokenizer_from_gguf(f, path);
    tokenizer = {{"kind", t->name()}, {"vocab_size", t->vocab_size()}};
    if (const auto* spm = dynamic_cast<const SpmTokenizer*>(t.get())) {
      tokenizer["bos"] = spm->vocabulary().bos;
      tokenizer["eos"] = spm->vocabulary().eos;
    }
  } catch (const Error& e) {
    tokenizer = {{"error", e.what()}};
  }
  Json tensors = Json::array(), by_type = Json::object();
  std::array<int64_t, 3> counts{};  // codes -1, 0, +1 over all ternary tensors
  int64_t values = 0, tensor_bytes = 0, ternary = 0;
  for (const GgufTensor& t : f.tensors) {
    int64_t n = 1;
    for (uint64_t d : t.dims) n *= static_cast<int64_t>(d);
    const auto b = static_cast<int64_t>(t.data.size());
    Json row = {{"name", t.name}, {"type", ggml_type_name(t.type)}, {"shape", t.dims},
                {"values", n}, {"bytes", b}, {"bits_per_weight", ratio(8.0 * b, n)}};
    if ((t.type == GgmlType::tq2_0 || t.type == GgmlType::tq1_0) && t.dims.size() == 2) {
      const auto rows = static_cast<int64_t>(t.dims[1]), cols = static_cast<int64_t>(t.dims[0]);
      Tensor codes({rows, cols}, DType::i8);
      std::vector<float> scales;
      if (t.type == GgmlType::tq2_0)
        unpack_tq2_0(t.data, rows, cols, codes.data<int8_t>(), scales);
      else
        unpack_tq1_0(t.data, rows, cols, codes.data<int8_t>(), scales);
      const TernaryStats st = ternary_stats(codes);
      row["zero_ratio"] = st.zero_ratio;
      row["effective_bits"] = st.effective_bits;
      const int8_t* q = codes.data<int8_t>();
      for (int64_t i = 0; i < n; ++i) ++counts[static_cast<size_t>(q[i] + 1)];
      ternary += n;
    }
    Json& type = by_type[ggml_type_name(t.type)];
    if (type.is_null()) type = {{"tensors", 0}, {"values", int64_t{0}}, {"bytes", int64_t{0}}};
    type["tensors"] = type["tensors"].get<int64_t>() + 1;
    type["values"] = type["values"].get<int64_t>() + n;
    type["bytes"] = type["bytes"].get<int64_t>() + b;
    tensors.push_back(row);
    values += n;
    tensor_bytes += b;
  }
  const double total = static_cast<double>(ternary);
  Json r = {{"file", path},
            {"file_bytes", static_cast<int64_t>(bytes.size())},
            {"format", "gguf"},
            {"architecture", text("general.architecture")},
            {"name", text("general.name")},
            {"model", model},
            {"tokenizer", tokenizer},
            {"tensors", tensors},
            {"totals",
             {{"tensors", static_cast<int64_t>(f.tensors.size())},
              {"values", values},
              {"tensor_bytes", tensor_bytes},
              {"ternary_weights", ternary},
              {"zero_ratio", ratio(static_cast<double>(counts[1]), total)},
              {"effective_bits",
               ternary == 0 ? 0.0
                            : entropy_from_ratios(counts[1] / total, counts[2] / total,
                                                  counts[0] / total)},
              {"by_type", by_type}}}};
  try {
    transformer_lm_from_gguf(f, path);
    r["runs_here"] = true;
  } catch (const Error& e) {
    r["runs_here"] = false;
    r["why"] = e.what();
  }
  return r;
}

std::string format_inspect_gguf(const Json& r) {
  auto str = [](const Json& v) { return v.is_string() ? v.get<std::string>() : std::string("?"); };
  std::string out = format_line("%s: GGUF, %lld bytes, architecture %s, name %s",
                                r["file"].get<std::string>().c_str(),
                                static_cast<long long>(r["file_bytes"].get<int64_t>()),
                                str(r["architecture"]).c_str(), str(r["name"]).c_str());
  std::string dims;
  for (const auto& [k, v] : r["model"].items()) dims += " " + k + "=" + v.dump();
  out += format_line("model:%s", dims.empty() ? " (no llama sizes)" : dims.c_str());
  const Json& t = r["tokenizer"];
  if (t.contains("error"))
    out += format_line("tokenizer: %s", t["error"].get<std::string>().c_str());
  else
    out += format_line("tokenizer: %s, %lld tokens", t["kind"].get<std::string>().c_str(),
                       static_cast<long long>(t["vocab_size"].get<int64_t>()));
  int w = 16;
  for (const Json& x : r["tensors"]) w = std::max(w, static_cast<int>(x["name"].get<std::string>().size()));
  out += format_line("\n%-*s %-6s %-18s %10s %10s %7s %6s %8s", w, "tensor", "type", "shape",
                     "values", "bytes", "bits/w", "zeros", "eff_bits");
  for (const Json& x : r["tensors"]) {
    std::string shape;
    for (const Json& d : x["shape"]) {
      if (!shape.empty()) shape += 'x';
      shape += d.dump();
    }
    std::string tail = "";
    if (x.contains("zero_ratio"))
      tail = format_line(" %6.3f %8.4f", x["zero_ratio"].get<double>(),
                         x["effective_bits"].get<double>());
    if (!tail.empty()) tail.pop_back();  // the newline
    out += format_line("%-*s %-6s %-18s %10lld %10lld %7.4f%s", w, x["name"].get<std::string>().c_str(),
                       x["type"].get<std::string>().c_str(), shape.c_str(),
                       static_cast<long long>(x["values"].get<int64_t>()),
                       static_cast<long long>(x["bytes"].get<int64_t>()),
                       x["bits_per_weight"].get<double>(), tail.c_str());
  }
  const Json& s = r["totals"];
  out += format_line("\ntotal: %lld tensors, %lld values in %lld bytes",
                     static_cast<long long>(s["tensors"].get<int64_t>()),
                     static_cast<long long>(s["values"].get<int64_t>()),
                     static_cast<long long>(s["tensor_bytes"].get<int64_t>()));
  if (s["ternary_weights"].get<int64_t>() > 0)
    out += format_line("       %lld ternary weights: zeros %.4f, effective bits %.4f",
                       static_cast<long long>(s["ternary_weights"].get<int64_t>()),
                       s["zero_ratio"].get<double>(), s["effective_bits"].get<double>());
  out += r["runs_here"].get<bool>()
             ? format_line("runs here: yes (generate --model, eval --model, bench lm --model)")
             : format_line("runs here: no: %s", r["why"].get<std::string>().c_str());
  return out;
}

}  // namespace chimera
