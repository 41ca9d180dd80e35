#include "engine/io/gguf.h"

#include <cstring>
#include <set>

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/mapped_file.h"

namespace chimera {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kVersion = 3;
// Sanity bounds: far above any real model, far below what would exhaust memory on a bad count.
constexpr uint64_t kMaxCount = uint64_t{1} << 24;
constexpr uint32_t kMaxDims = 4;


class Writer {
 public:
  template <class T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
  }
  void string(const std::string& s) {
    put<uint64_t>(s.size());
    out += s;
  }
  void value(const GgufValue& v) {
    switch (v.type) {
      case GgufValueType::u8: put<uint8_t>(static_cast<uint8_t>(std::get<uint64_t>(v.scalar))); break;
      case GgufValueType::u16: put<uint16_t>(static_cast<uint16_t>(std::get<uint64_t>(v.scalar))); break;
      case GgufValueType::u32: put<uint32_t>(static_cast<uint32_t>(std::get<uint64_t>(v.scalar))); break;
      case GgufValueType::u64: put<uint64_t>(std::get<uint64_t>(v.scalar)); break;
      case GgufValueType::i8: put<int8_t>(static_cast<int8_t>(std::get<int64_t>(v.scalar))); break;
      case GgufValueType::i16: put<int16_t>(static_cast<int16_t>(std::get<int64_t>(v.scalar))); break;
      case GgufValueType::i32: put<int32_t>(static_cast<int32_t>(std::get<int64_t>(v.scalar))); break;
      case GgufValueType::i64: put<int64_t>(std::get<int64_t>(v.scalar)); break;
      case GgufValueType::f32: put<float>(static_cast<float>(std::get<double>(v.scalar))); break;
      case GgufValueType::f64: put<double>(std::get<double>(v.scalar)); break;
      case GgufValueType::boolean: put<uint8_t>(std::get<bool>(v.scalar) ? 1 : 0); break;
      case GgufValueType::string: string(std::get<std::string>(v.scalar)); break;
      case GgufValueType::array:
        put<uint32_t>(static_cast<uint32_t>(v.element_type));
        put<uint64_t>(v.elements.size());
        for (const GgufValue& e : v.elements) value(e);
        break;
    }
  }
  std::string out;
};

class Reader {
 public:
  Reader(std::string_view b, const std::string& src) : bytes(b), source(src) {}
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof(T));
    at += sizeof(T);
    return v;
  }
  void need(uint64_t n, const char* what) {
    CHIMERA_CHECK(n <= bytes.size() - at, "GGUF '", source, "': truncated in ", what, " (needs ",
                  n, " bytes at offset ", at, ", the file has ", bytes.size() - at, " left)");
  }
  std::string string(const char* what) {
    const auto n = get<uint64_t>(what);
    need(n, what);
    std::string s(bytes.substr(at, n));
    at += n;
    return s;
  }
  GgufValue value(GgufValueType t, const std::string& key, int depth) {
    GgufValue v;
    v.type = t;
    switch (t) {
      case GgufValueType::u8: v.scalar = uint64_t{get<uint8_t>("a value")}; break;
      case GgufValueType::u16: v.scalar = uint64_t{get<uint16_t>("a value")}; break;
      case GgufValueType::u32: v.scalar = uint64_t{get<uint32_t>("a value")}; break;
      case GgufValueType::u64: v.scalar = get<uint64_t>("a value"); break;
      case GgufValueType::i8: v.scalar = int64_t{get<int8_t>("a value")}; break;
      case GgufValueType::i16: v.scalar = int64_t{get<int16_t>("a value")}; break;
      case GgufValueType::i32: v.scalar = int64_t{get<int32_t>("a value")}; break;
      case GgufValueType::i64: v.scalar = get<int64_t>("a value"); break;
      case GgufValueType::f32: v.scalar = double{get<float>("a value")}; break;
      case GgufValueType::f64: v.scalar = get<double>("a value"); break;
      case GgufValueType::boolean: {
        const auto b = get<uint8_t>("a value");
        CHIMERA_CHECK(b <= 1, "GGUF '", source, "': key '", key, "': a bool holds ", int{b});
        v.scalar = b == 1;
        break;
      }
      case GgufValueType::string: v.scalar = string("a string value"); break;
      case GgufValueType::array: {
        CHIMERA_CHECK(depth == 0, "GGUF '", source, "': key '", key, "': nested arrays");
        const auto et = get<uint32_t>("an array's type");
        v.element_type = checked_type(et, key);
        const auto n = get<uint64_t>("an array's length");
        // Every element takes at least one byte: a longer array cannot be in the file.
        CHIMERA_CHECK(n <= bytes.size() - at, "GGUF '", source, "': key '", key,
                      "': an array of ", n, " elements in ", bytes.size() - at, " bytes");
        v.elements.reserve(n);
        for (uint64_t i = 0; i < n; ++i) v.elements.push_back(value(v.element_type, key, depth + 1));
        break;
      }
    }
    return v;
  }
  GgufValueType checked_type(uint32_t t, const std::string& key) {
    CHIMERA_CHECK(t <= 12, "GGUF '", source, "': key '", key, "' has unknown value type ", t);
    return static_cast<GgufValueType>(t);
  }
  std::string_view bytes;
  const std::string& source;
  uint64_t at = 0;
};

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::u8: return "u8";
    case GgufValueType::i8: return "i8";
    case GgufValueType::u16: return "u16";
    case GgufValueType::i16: return "i16";
    case GgufValueType::u32: return "u32";
    case GgufValueType::i32: return "i32";
    case GgufValueType::f32: return "f32";
    case GgufValueType::boolean: return "bool";
    case GgufValueType::string: return "string";
    case GgufValueType::array: return "array";
    case GgufValueType::u64: return "u64";
    case GgufValueType::i64: return "i64";
    case GgufValueType::f64: return "f64";
  }
  return "?";
}

const char* ggml_type_name(GgmlType t) {
  switch (t) {
    case GgmlType::f32: return "F32";
    case GgmlType::f16: return "F16";
    case GgmlType::tq1_0: return "TQ1_0";
    case GgmlType::tq2_0: return "TQ2_0";
  }
  return "?";
}

uint64_t ggml_type_bytes(GgmlType t, uint64_t elements) {
  switch (t) {
    case GgmlType::f32: return elements * 4;
    case GgmlType::f16: return elements * 2;
    case GgmlType::tq1_0:  // 256 values: 48 bytes of base-3 fives, 4 of fours, fp16 scale
      CHIMERA_CHECK(elements % 256 == 0, "TQ1_0 holds blocks of 256 values, not ", elements);
      return elements / 256 * 54;
    case GgmlType::tq2_0:  // 256 values: 64 bytes of 2-bit codes, fp16 scale
      CHIMERA_CHECK(elements % 256 == 0, "TQ2_0 holds blocks of 256 values, not ", elements);
      return elements / 256 * 66;
  }
  CHIMERA_FAIL("unknown ggml type ", static_cast<uint32_t>(t));
}

GgufValue GgufValue::array(GgufValueType element_type, std::vector<GgufValue> elements) {
  GgufValue v;
  v.type = GgufValueType::array;
  v.element_type = element_type;
  v.elements = std::move(elements);
  return v;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return &v;
  return nullptr;
}

std::optional<uint64_t> gguf_uint_if_any(const GgufFile& f, const std::string& key,
                                         const std::string& source) {
  const GgufValue* v = f.find(key);
  if (!v) return std::nullopt;
  if (const auto* u = std::get_if<uint64_t>(&v->scalar); u && v->type != GgufValueType::array)
    return *u;
  const auto* i = std::get_if<int64_t>(&v->scalar);
  CHIMERA_CHECK(i && v->type != GgufValueType::array, "GGUF '", source, "': metadata '", key,
                "' is not an integer");
  CHIMERA_CHECK(*i >= 0, "GGUF '", source, "': metadata '", key, "' is negative (", *i, ")");
  return static_cast<uint64_t>(*i);
}

uint64_t gguf_uint(const GgufFile& f, const std::string& key, const std::string& source) {
  const std::optional<uint64_t> v = gguf_uint_if_any(f, key, source);
  CHIMERA_CHECK(v.has_value(), "GGUF '", source, "': metadata '", key, "' is missing");
  return *v;
}

double gguf_float(const GgufFile& f, const std::string& key, double fallback) {
  const GgufValue* v = f.find(key);
  if (!v || (v->type != GgufValueType::f32 && v->type != GgufValueType::f64)) return fallback;
  return std::get<double>(v->scalar);
}

bool gguf_bool(const GgufFile& f, const std::string& key, bool fallback, const std::string& source) {
  const GgufValue* v = f.find(key);
  if (!v) return fallback;
  CHIMERA_CHECK(v->type == GgufValueType::boolean, "GGUF '", source, "': metadata '", key,
                "' is not a boolean");
  return std::get<bool>(v->scalar);
}

const GgufTensor* GgufFile::tensor(const std::string& name) const {
  for (const GgufTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string serialize_gguf(const GgufFile& f) {
  CHIMERA_CHECK(f.alignment > 0 && (f.alignment & (f.alignment - 1)) == 0,
                "GGUF alignment must be a power of two, got ", f.alignment);
  std::vector<std::pair<std::string, GgufValue>> metadata = f.metadata;
  if (f.alignment != 32 && !f.find("general.alignment"))
    metadata.emplace_back("general.alignment", GgufValue::u32(f.alignment));
  Writer w;
  w.put<uint32_t>(kMagic);
  w.put<uint32_t>(kVersion);
  w.put<uint64_t>(f.tensors.size());
  w.put<uint64_t>(metadata.size());
  for (const auto& [k, v] : metadata) {
    w.string(k);
    w.put<uint32_t>(static_cast<uint32_t>(v.type));
    w.value(v);
  }
  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (const GgufTensor& t : f.tensors) {
    uint64_t n = 1;
    for (uint64_t d : t.dims) n *= d;
    CHIMERA_CHECK(t.data.size() == ggml_type_bytes(t.type, n), "GGUF tensor '", t.name,
                  "': ", t.data.size(), " bytes for ", n, " ", ggml_type_name(t.type),
                  " values");
    w.string(t.name);
    w.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) w.put<uint64_t>(d);
    w.put<uint32_t>(static_cast<uint32_t>(t.type));
    w.put<uint64_t>(offset);
    offsets.push_back(offset);
    offset = align_up(offset + t.data.size(), f.alignment);
  }
  w.out.resize(align_up(w.out.size(), f.alignment), '\0');
  const size_t data_start = w.out.size();
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    w.out.resize(data_start + offsets[i], '\0');
    w.out += std::string_view(f.tensors[i].data);
  }
  return w.out;
}

GgufFile parse_gguf(std::string_view bytes, const std::string& source,
                    const std::shared_ptr<void>& owner) {
  Reader r(bytes, source);
  const auto magic = r.get<uint32_t>("the magic");
  CHIMERA_CHECK(magic == kMagic, "GGUF '", source, "': not a GGUF file (the first bytes are not "
                "\"GGUF\")");
  const auto version = r.get<uint32_t>("the version");
  CHIMERA_CHECK(version == kVersion, "GGUF '", source, "': version ", version,
                ", this reader takes version 3");
  const auto n_tensors = r.get<uint64_t>("the tensor count");
  const auto n_kv = r.get<uint64_t>("the metadata count");
  CHIMERA_CHECK(n_tensors <= kMaxCount && n_kv <= kMaxCount, "GGUF '", source, "': ", n_tensors,
                " tensors and ", n_kv, " metadata entries are beyond any model");
  GgufFile f;
  std::set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = r.string("a metadata key");
    CHIMERA_CHECK(keys.insert(key).second, "GGUF '", source, "': metadata key '", key,
                  "' appears twice");
    const GgufValueType t = r.checked_type(r.get<uint32_t>("a value type"), key);
    f.metadata.emplace_back(key, r.value(t, key, 0));
  }
  if (const GgufValue* a = f.find("general.alignment")) {
    CHIMERA_CHECK(a->type == GgufValueType::u32, "GGUF '", source,
                  "': general.alignment must be a u32, got ", gguf_value_type_name(a->type));
    const uint64_t al = std::get<uint64_t>(a->scalar);
    CHIMERA_CHECK(al > 0 && al <= 4096 && (al & (al - 1)) == 0, "GGUF '", source,
                  "': general.alignment ", al, " is not a power of two up to 4096");
    f.alignment = static_cast<uint32_t>(al);
  }
  struct Info {
    uint64_t offset, bytes;
  };
  std::vector<Info> infos;
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    t.name = r.string("a tensor name");
    CHIMERA_CHECK(names.insert(t.name).second, "GGUF '", source, "': tensor '", t.name,
                  "' appears twice");
    const auto n_dims = r.get<uint32_t>("a tensor's dimension count");
    CHIMERA_CHECK(n_dims >= 1 && n_dims <= kMaxDims, "GGUF '", source, "': tensor '", t.name,
                  "' has ", n_dims, " dimensions (1 to 4 are allowed)");
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = r.get<uint64_t>("a tensor's dimensions");
      CHIMERA_CHECK(dim > 0 && dim <= bytes.size() * 8 && n <= (bytes.size() * 8) / dim, "GGUF '",
                    source, "': tensor '", t.name, "' has an absurd dimension ", dim);
      t.dims.push_back(dim);
      n *= dim;
    }
    const auto type = r.get<uint32_t>("a tensor's type");
    CHIMERA_CHECK(type == 0 || type == 1 || type == 34 || type == 35, "GGUF '", source,
                  "': tensor '", t.name, "' has ggml type ", type,
                  ", this reader takes F32 (0), F16 (1), TQ1_0 (34) and TQ2_0 (35)");
    t.type = static_cast<GgmlType>(type);
    const auto offset = r.get<uint64_t>("a tensor's offset");
    uint64_t size;
    try {
      size = ggml_type_bytes(t.type, n);
    } catch (const Error& e) {
      CHIMERA_FAIL("GGUF '", source, "': tensor '", t.name, "': ", e.what());
    }
    CHIMERA_CHECK(offset % f.alignment == 0, "GGUF '", source, "': tensor '", t.name,
                  "' starts at offset ", offset, ", not a multiple of the alignment ",
                  f.alignment);
    infos.push_back({offset, size});
    f.tensors.push_back(std::move(t));
  }
  const uint64_t data_start = align_up(r.at, f.alignment);
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    const Info& in = infos[i];
    const uint64_t room = bytes.size() >= data_start ? bytes.size() - data_start : 0;
    CHIMERA_CHECK(in.offset <= room && in.bytes <= room - in.offset, "GGUF '", source,
                  "': tensor '", f.tensors[i].name, "' (", in.bytes, " bytes at data offset ",
                  in.offset, ") runs past the end of the file (", room, " data bytes)");
    const std::string_view data = bytes.substr(data_start + in.offset, in.bytes);
    f.tensors[i].data = owner ? GgufBytes(data, owner) : GgufBytes(std::string(data));
  }
  return f;
}

void write_gguf(const std::string& path, const GgufFile& file) {
  write_file_atomic(path, serialize_gguf(file));
}

GgufFile read_gguf(const std::string& path) {
  const MappedFile file = map_file(path);
  return parse_gguf(file.bytes(), path, file.owner);
}

}  // namespace chimera
