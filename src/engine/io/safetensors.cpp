#include "engine/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "engine/io/atomic_file.h"
#include "engine/io/mapped_file.h"

namespace chimera {

using nlohmann::json;

static const char* st_dtype(DType d) {
  switch (d) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i8: return "I8";
    case DType::i32: return "I32";
    case DType::i64: return "I64";
  }
  return "?";
}

static bool parse_dtype(const std::string& s, DType& out) {
  static const std::pair<const char*, DType> table[] = {
      {"F32", DType::f32}, {"F64", DType::f64}, {"I8", DType::i8},
      {"I32", DType::i32}, {"I64", DType::i64}};
  for (const auto& [name, d] : table)
    if (s == name) {
      out = d;
      return true;
    }
  return false;
}

const Tensor& Safetensors::at(const std::string& name) const {
  auto it = tensors.find(name);
  CHIMERA_CHECK(it != tensors.end(), "'", source, "' has no tensor named '", name, "'");
  return it->second;
}

Safetensors parse_safetensors(std::string_view bytes, const std::string& source,
                              const std::shared_ptr<void>& owner) {
  const std::string where = "'" + source + "': ";
  CHIMERA_CHECK(bytes.size() >= 8, where, "truncated: ", bytes.size(),
                " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[i]);
  CHIMERA_CHECK(header_len <= bytes.size() - 8, where, "truncated: header says ", header_len,
                " bytes of JSON but only ", bytes.size() - 8, " follow");
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(header_len));
  } catch (const json::exception& e) {
    CHIMERA_FAIL(where, "header is not valid JSON (", e.what(), ")");
  }
  CHIMERA_CHECK(header.is_object(), where, "header JSON must be an object");

  Safetensors out;
  out.source = source;
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_len = bytes.size() - data_start;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      CHIMERA_CHECK(entry.is_object(), where, "__metadata__ must be an object");
      for (const auto& [k, v] : entry.items()) {
        CHIMERA_CHECK(v.is_string(), where, "__metadata__ value '", k, "' must be a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string what = where + "tensor '" + name + "': ";
    CHIMERA_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") &&
                      entry.contains("data_offsets"),
                  what, "needs dtype, shape and data_offsets");
    CHIMERA_CHECK(entry["dtype"].is_string(), what, "dtype must be a string");
    DType dtype;
    const std::string dtype_str = entry["dtype"].get<std::string>();
    CHIMERA_CHECK(parse_dtype(dtype_str, dtype), what, "unsupported dtype '", dtype_str,
                  "' (supported: F32, F64, I8, I32, I64)");
    const json& js = entry["shape"];
    CHIMERA_CHECK(js.is_array(), what, "shape must be an array");
    Shape shape;
    for (const json& d : js) {
      CHIMERA_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0, what,
                    "shape entries must be non-negative integers");
      shape.push_back(d.get<int64_t>());
    }
    const json& off = entry["data_offsets"];
    CHIMERA_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                      off[1].is_number_unsigned(),
                  what, "data_offsets must be two non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    CHIMERA_CHECK(begin <= end && end <= data_len, what, "data_offsets [", begin, ", ", end,
                  "] out of range: the data section has ", data_len, " bytes (file truncated?)");
    // The byte count is compared before anything is allocated: a shape is a claim, the data
    // section is what the file holds.
    int64_t numel = 0;
    CHIMERA_CHECK(checked_numel(shape, numel), what, "shape ", shape_str(shape),
                  " has more elements than a 64-bit count holds");
    uint64_t needed = 0;
    CHIMERA_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(numel), dtype_size(dtype), &needed),
                  what, "shape ", shape_str(shape), " is too large");
    CHIMERA_CHECK(end - begin == needed, what, "shape ", shape_str(shape), " of ", dtype_str,
                  " needs ", needed, " bytes but data_offsets span ", end - begin);
    const char* src = bytes.data() + data_start + begin;
    Tensor t;
    if (owner && reinterpret_cast<uintptr_t>(src) % dtype_size(dtype) == 0) {
      t = Tensor::from_external(const_cast<char*>(src), shape, dtype, owner);
    } else {
      t = Tensor::empty(shape, dtype);
      if (t.nbytes()) std::memcpy(t.raw(), src, t.nbytes());
    }
    ranges.push_back({begin, end});
    out.tensors.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    CHIMERA_CHECK(ranges[i].first >= ranges[i - 1].second, where,
                  "tensor data ranges overlap at byte ", ranges[i].first);
  return out;
}

Safetensors read_safetensors(const std::string& path) {
  const MappedFile file = map_file(path);
  return parse_safetensors(file.bytes(), path, file.owner);
}

std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    CHIMERA_CHECK(name != "__metadata__", "a tensor may not be named __metadata__");
    CHIMERA_CHECK(t.defined(), "cannot save undefined tensor '", name, "'");
    header[name] = {{"dtype", st_dtype(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((head.size() >> (8 * i)) & 0xff);
  out += head;
  out.reserve(out.size() + offset);
  for (const auto& [name, t] : tensors)
    out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

}  // namespace chimera
