#include "engine/tensor.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <sys/mman.h>

#include "engine/threads.h"

namespace chimera {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i8: return 1;
    case DType::i32: return 4;
    case DType::i64: return 8;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i8: return "i8";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
  }
  return "?";
}

bool checked_numel(const Shape& shape, int64_t& numel) {
  numel = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(numel, d, &numel)) return false;
  return true;
}

// Checked: shapes come from files, and a product that wraps (2^62 x 4 = 0 in 64 bits) would make
// an enormous tensor look empty and valid.
int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) CHIMERA_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  CHIMERA_CHECK(checked_numel(shape, n), "shape ", shape_str(shape),
                " has more elements than a 64-bit count holds");
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A network allocates and frees layer-sized tensors (megabytes) hundreds of times per step, in
// the same sizes every step. glibc maps such blocks fresh (or returns them from the top of its
// heap) and every step page-faults them in again: a fifth of a ResNet-20 training step. Blocks
// of 1 KB and more are therefore kept on free lists by exact size and reused (from 64 KB, as it
// was first, a generated token still spent 5 % in malloc and free on its kilobyte vectors, half
// of it consolidating glibc's free lists). The free lists hold at most
// as many bytes as were ever in use at once, so the process never holds more than twice its
// peak live data, and in a loop of same-sized steps no more than that peak.
namespace {

class BlockPool {
 public:
  static constexpr size_t kMinBytes = size_t{1} << 10;  // smaller blocks: plain malloc

  // A cached block of exactly `bytes`, or a new one; null when out of memory.
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_use_ += bytes;
      peak_in_use_ = std::max(peak_in_use_, in_use_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) {
      std::lock_guard<std::mutex> lock(mutex_);
      in_use_ -= bytes;
    }
    return p;
  }
  void give(void* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_use_ -= bytes;
      if (cached_ + bytes <= peak_in_use_) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0, in_use_ = 0, peak_in_use_ = 0;
};

// Never destroyed: tensors may outlive any static object.
BlockPool& pool() {
  static BlockPool* p = new BlockPool;
  return *p;
}

}  // namespace

static std::shared_ptr<void> allocate(size_t bytes, bool zero) {
  // 64-byte alignment lets every SIMD kernel use aligned loads on the base pointer.
  size_t rounded = ((bytes + 63) / 64) * 64;
  if (rounded == 0) rounded = 64;
  const bool pooled = rounded >= BlockPool::kMinBytes;
  void* p = pooled ? pool().take(rounded) : std::aligned_alloc(64, rounded);
  CHIMERA_CHECK(p != nullptr, "out of memory allocating ", bytes, " bytes");
  if (zero) std::memset(p, 0, rounded);
  if (!pooled) return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return std::shared_ptr<void>(p, [rounded](void* q) { pool().give(q, rounded); });
}

Tensor::Tensor(Shape shape, DType dtype)
    : shape_(std::move(shape)), dtype_(dtype), numel_(shape_numel(shape_)) {
  storage_ = allocate(nbytes(), true);
}

Tensor Tensor::empty(Shape shape, DType dtype) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  t.numel_ = shape_numel(t.shape_);
  t.storage_ = allocate(t.nbytes(), false);
  return t;
}

Tensor Tensor::lazy_zeros(Shape shape, DType dtype) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  t.numel_ = shape_numel(t.shape_);
  const size_t bytes = std::max<size_t>(t.nbytes(), 1);
  // Not from the block pool: its blocks come back written.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHIMERA_CHECK(p != MAP_FAILED, "out of memory reserving ", bytes, " bytes");
  t.storage_ = std::shared_ptr<void>(p, [bytes](void* q) { munmap(q, bytes); });
  return t;
}

Tensor Tensor::from_external(void* data, Shape shape, DType dtype, std::shared_ptr<void> owner) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  t.numel_ = shape_numel(t.shape_);
  CHIMERA_CHECK(data != nullptr || t.numel_ == 0, "from_external: null data for ",
                shape_str(t.shape_));
  CHIMERA_CHECK(reinterpret_cast<uintptr_t>(data) % dtype_size(dtype) == 0,
                "from_external: data not aligned to its ", dtype_size(dtype), "-byte elements");
  // The aliasing constructor: `owner`'s lifetime, `data`'s address. An empty array may have no
  // data at all, and a tensor without storage counts as undefined: it gets a block of its own.
  t.storage_ = data != nullptr ? std::shared_ptr<void>(std::move(owner), data) : allocate(0, true);
  return t;
}

Tensor Tensor::full(Shape shape, float value) {
  Tensor t = empty(std::move(shape));
  t.fill(value);
  return t;
}

Tensor Tensor::scalar(float value) { return full({}, value); }

Tensor Tensor::from_vector(Shape shape, const std::vector<float>& values) {
  Tensor t = empty(std::move(shape));
  CHIMERA_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "from_vector: ", values.size(),
                " values for shape ", shape_str(t.shape()));
  std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

int64_t Tensor::size(int64_t axis) const {
  int64_t d = dim();
  if (axis < 0) axis += d;
  CHIMERA_CHECK(axis >= 0 && axis < d, "axis ", axis, " out of range for shape ", shape_str(shape_));
  return shape_[axis];
}

void Tensor::check_dtype(DType want) const {
  CHIMERA_CHECK(defined(), "use of an undefined tensor");
  CHIMERA_CHECK(dtype_ == want, "tensor holds ", dtype_name(dtype_), " but ", dtype_name(want),
                " was requested");
}

Tensor Tensor::clone() const {
  if (!defined()) return Tensor();
  Tensor t = empty(shape_, dtype_);
  // Activation-sized copies (gradients shared by two consumers) split over the threads: a
  // serial copy there was a measurable share of a 2-thread training step.
  constexpr int64_t kChunk = int64_t{1} << 18;
  const int64_t bytes = static_cast<int64_t>(nbytes()), chunks = (bytes + kChunk - 1) / kChunk;
  auto* dst = static_cast<char*>(t.raw());
  const auto* src = static_cast<const char*>(raw());
  parallel_for(chunks, kParallelMinWork, [&](int64_t c) {
    const int64_t b = c * kChunk;
    std::memcpy(dst + b, src + b, static_cast<size_t>(std::min(bytes, b + kChunk) - b));
  });
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      CHIMERA_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) shape[infer] = known ? numel_ / known : 0;
  CHIMERA_CHECK(shape_numel(shape) == numel_, "reshape: cannot view ", shape_str(shape_), " as ",
                shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

template <class From, class To>
static void convert(const void* src, void* dst, int64_t n) {
  const From* s = static_cast<const From*>(src);
  To* d = static_cast<To*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<To>(s[i]);
}

template <class From>
static void convert_from(const void* src, void* dst, DType to, int64_t n) {
  switch (to) {
    case DType::f32: convert<From, float>(src, dst, n); break;
    case DType::f64: convert<From, double>(src, dst, n); break;
    case DType::i8: convert<From, int8_t>(src, dst, n); break;
    case DType::i32: convert<From, int32_t>(src, dst, n); break;
    case DType::i64: convert<From, int64_t>(src, dst, n); break;
  }
}

Tensor Tensor::to(DType dtype) const {
  CHIMERA_CHECK(defined(), "use of an undefined tensor");
  Tensor t = empty(shape_, dtype);
  switch (dtype_) {
    case DType::f32: convert_from<float>(raw(), t.raw(), dtype, numel_); break;
    case DType::f64: convert_from<double>(raw(), t.raw(), dtype, numel_); break;
    case DType::i8: convert_from<int8_t>(raw(), t.raw(), dtype, numel_); break;
    case DType::i32: convert_from<int32_t>(raw(), t.raw(), dtype, numel_); break;
    case DType::i64: convert_from<int64_t>(raw(), t.raw(), dtype, numel_); break;
  }
  return t;
}

double Tensor::item() const {
  CHIMERA_CHECK(numel_ == 1, "item() needs a one-element tensor, got shape ", shape_str(shape_));
  return to(DType::f64).data<double>()[0];
}

void Tensor::fill(double value) {
  switch (dtype_) {
    case DType::f32: { float* p = data<float>(); for (int64_t i = 0; i < numel_; ++i) p[i] = static_cast<float>(value); break; }
    case DType::f64: { double* p = data<double>(); for (int64_t i = 0; i < numel_; ++i) p[i] = value; break; }
    case DType::i8: { int8_t* p = data<int8_t>(); for (int64_t i = 0; i < numel_; ++i) p[i] = static_cast<int8_t>(value); break; }
    case DType::i32: { int32_t* p = data<int32_t>(); for (int64_t i = 0; i < numel_; ++i) p[i] = static_cast<int32_t>(value); break; }
    case DType::i64: { int64_t* p = data<int64_t>(); for (int64_t i = 0; i < numel_; ++i) p[i] = static_cast<int64_t>(value); break; }
  }
}

void Tensor::copy_from(const Tensor& other) {
  check_same_shape(*this, other, "copy_from");
  CHIMERA_CHECK(dtype_ == other.dtype_, "copy_from: dtype ", dtype_name(other.dtype_), " into ",
                dtype_name(dtype_));
  std::memcpy(raw(), other.raw(), nbytes());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  CHIMERA_CHECK(a.shape() == b.shape(), what, ": shapes ", shape_str(a.shape()), " and ",
                shape_str(b.shape()), " differ");
}

}  // namespace chimera
