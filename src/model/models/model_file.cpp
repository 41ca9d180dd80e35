#include "model/models/model_file.h"
#include "engine/io/little_endian.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>

#include "engine/io/atomic_file.h"
#include "engine/io/sha256.h"

namespace chimera {

static_assert(std::endian::native == std::endian::little,
              "float32 tensors are stored as this machine's bytes: little-endian only");

namespace {

constexpr char kMagic[8] = {'C', 'H', 'I', 'M', 'O', 'D', 'E', 'L'};
constexpr size_t kShaBytes = kSha256Bytes;
constexpr size_t kShaOffset = kModelFileHeaderBytes - kShaBytes;

using Json = nlohmann::json;


std::string float_bytes(const Tensor& t) {
  CHIMERA_CHECK(t.defined() && t.dtype() == DType::f32, "model file: float tensors must be f32");
  return std::string(static_cast<const char*>(t.raw()), t.nbytes());
}

// The shape of a table entry, each dimension >= 0 and the product bounded (a hostile header
// must not make us allocate).
Shape parse_shape(const Json& j, const std::string& what) {
  CHIMERA_CHECK(j.is_array() && j.size() <= 8, what, ": shape must be a list of at most 8 sizes");
  Shape shape;
  int64_t numel = 1;
  for (const Json& d : j) {
    CHIMERA_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0, what,
                  ": shape sizes must be integers >= 0");
    shape.push_back(d.get<int64_t>());
    CHIMERA_CHECK(shape.back() == 0 || numel <= (int64_t{1} << 40) / shape.back(), what, ": shape ",
                  j.dump(), " is impossibly large");
    numel *= shape.back();
  }
  return shape;
}

TernaryTensor parse_ternary(const Json& entry, const std::string& bytes, const std::string& what) {
  TernaryTensor t;
  t.shape = parse_shape(entry.at("shape"), what);
  CHIMERA_CHECK(t.shape.size() >= 2 && shape_numel(t.shape) > 0, what,
                ": a ternary weight needs a non-empty shape of rank >= 2, got ",
                shape_str(t.shape));
  t.packed = parse_packed(bytes, what);
  const int64_t rows = t.shape[0], cols = shape_numel(t.shape) / rows;
  CHIMERA_CHECK(t.packed.header.rows == rows && t.packed.header.cols == cols, what, ": packed as [",
                t.packed.header.rows, ", ", t.packed.header.cols, "] but the table says shape ",
                shape_str(t.shape), " ([", rows, ", ", cols, "])");
  t.alpha = entry.at("alpha").get<double>();
  t.clip = entry.at("clip").get<float>();
  CHIMERA_CHECK(std::isfinite(t.alpha) && t.clip > 0.0f && t.clip <= 1.0f, what,
                ": alpha must be finite and clip in (0, 1]");
  return t;
}

Tensor parse_float(const Json& entry, const std::string& bytes, const std::string& what) {
  const Shape shape = parse_shape(entry.at("shape"), what);
  // Compared before allocating: the shape is a claim, the bytes are what the file holds.
  const uint64_t needed = static_cast<uint64_t>(shape_numel(shape)) * sizeof(float);
  CHIMERA_CHECK(needed == bytes.size(), what, ": shape ", shape_str(shape), " needs ", needed,
                " bytes of float32, the table gives ", bytes.size());
  Tensor t(shape, DType::f32);
  if (!bytes.empty()) std::memcpy(t.raw(), bytes.data(), bytes.size());
  return t;
}

}  // namespace


std::string serialize_model_file(const ModelFile& file) {
  Json table = Json::array();
  std::string data;
  auto add = [&](const std::string& name, const char* kind, const Shape& shape,
                 const std::string& bytes) {
    table.push_back({{"name", name},
                     {"kind", kind},
                     {"shape", shape},
                     {"offset", data.size()},
                     {"bytes", bytes.size()},
                     {"sha256", sha256_hex(bytes)}});
    data += bytes;
    return &table.back();
  };
  for (const auto& [name, t] : file.ternary) {
    CHIMERA_CHECK(t.shape.size() >= 2 && t.packed.header.rows == t.shape[0] &&
                      t.packed.header.rows * t.packed.header.cols == shape_numel(t.shape),
                  "model file: ternary tensor '", name, "' is packed as [", t.packed.header.rows,
                  ", ", t.packed.header.cols, "], which does not match its shape ",
                  shape_str(t.shape));
    Json* entry = add(name, "ternary", t.shape, serialize_packed(t.packed));
    (*entry)["alpha"] = t.alpha;
    (*entry)["clip"] = t.clip;
  }
  for (const auto& [name, t] : file.floats) add(name, "float32", t.shape(), float_bytes(t));
  const std::string header = Json{{"description", file.description}, {"tensors", table}}.dump();

  std::string out(kMagic, sizeof(kMagic));
  put_le(out, kModelFileVersion, 4);
  put_le(out, 0, 4);
  put_le(out, header.size(), 8);
  out += sha256_raw(header.data(), header.size());
  out += header;
  out += data;
  return out;
}

ModelFile parse_model_file(const std::string& bytes, const std::string& source) {
  const std::string what = "model file '" + source + "'";
  CHIMERA_CHECK(bytes.size() >= kModelFileHeaderBytes, what, ": ", bytes.size(),
                " bytes, shorter than the ", kModelFileHeaderBytes,
                "-byte fixed header (truncated?)");
  CHIMERA_CHECK(std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0, what,
                ": does not start with the magic \"CHIMODEL\" (not a chimera model file; make "
                "one with `chimera export`)");
  const uint64_t version = get_le(bytes, 8, 4);
  CHIMERA_CHECK(version == kModelFileVersion, what, ": format version ", version,
                ", this build reads version ", kModelFileVersion,
                " (export the model again with this build)");
  CHIMERA_CHECK(get_le(bytes, 12, 4) == 0, what, ": reserved header bytes must be 0");
  const uint64_t header_bytes = get_le(bytes, 16, 8);
  const size_t after_fixed = bytes.size() - kModelFileHeaderBytes;
  CHIMERA_CHECK(header_bytes <= after_fixed, what, ": truncated: the header needs ", header_bytes,
                " bytes, the file has ", after_fixed, " after the fixed header");
  const char* header_start = bytes.data() + kModelFileHeaderBytes;
  CHIMERA_CHECK(sha256_raw(header_start, header_bytes) == bytes.substr(kShaOffset, kShaBytes), what,
                ": header checksum mismatch (the file is corrupt)");

  ModelFile file;
  const size_t data_start = kModelFileHeaderBytes + header_bytes;
  const size_t data_bytes = bytes.size() - data_start;
  try {
    const Json header = Json::parse(header_start, header_start + header_bytes);
    file.description = header.at("description");
    CHIMERA_CHECK(file.description.is_object(), what, ": description must be a JSON object");
    uint64_t expected_offset = 0;
    std::set<std::string> names;
    for (const Json& entry : header.at("tensors")) {
      const std::string name = entry.at("name").get<std::string>();
      const std::string kind = entry.at("kind").get<std::string>();
      const std::string tensor = what + " tensor '" + name + "'";
      CHIMERA_CHECK(names.insert(name).second, tensor, ": listed twice");
      const uint64_t offset = entry.at("offset").get<uint64_t>();
      const uint64_t size = entry.at("bytes").get<uint64_t>();
      CHIMERA_CHECK(offset == expected_offset, tensor, ": starts at data offset ", offset,
                    ", expected ", expected_offset, " (tensors lie back to back)");
      CHIMERA_CHECK(size <= data_bytes - offset, tensor, ": truncated: needs data bytes [", offset,
                    ", ", offset + size, "), the file has ", data_bytes);
      expected_offset += size;
      const std::string payload = bytes.substr(data_start + offset, size);
      CHIMERA_CHECK(sha256_hex(payload) == entry.at("sha256").get<std::string>(), tensor,
                    ": checksum mismatch (the file is corrupt)");
      if (kind == "ternary") {
        file.ternary.emplace_back(name, parse_ternary(entry, payload, tensor));
      } else {
        CHIMERA_CHECK(kind == "float32", tensor, ": unknown kind '", kind,
                      "' (expected ternary or float32)");
        file.floats.emplace_back(name, parse_float(entry, payload, tensor));
      }
    }
    CHIMERA_CHECK(expected_offset == data_bytes, what, ": ", data_bytes - expected_offset,
                  " bytes after the last tensor");
  } catch (const nlohmann::json::exception& e) {
    CHIMERA_FAIL(what, ": malformed header: ", e.what());
  }
  return file;
}

void write_model_file(const std::string& path, const ModelFile& file) {
  write_file_atomic(path, serialize_model_file(file));
}

ModelFile read_model_file(const std::string& path) {
  return parse_model_file(read_file(path), path);
}

}  // namespace chimera
