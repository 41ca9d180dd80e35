#include "harness/python/arrays.h"

#include <cstring>
#include <utility>

namespace chimera::python {

namespace {

// Keeps a Python object alive while any tensor shares its memory. The last owner may be
// released by engine code that does not hold the GIL, so the deleter takes it.
std::shared_ptr<void> keep_alive(py::object object) {
  auto* holder = new py::object(std::move(object));
  return std::shared_ptr<void>(holder, [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
}

std::optional<DType> engine_dtype(const py::dtype& d) {
  const char kind = d.kind();
  const auto size = d.itemsize();
  if (kind == 'f' && size == 4) return DType::f32;
  if (kind == 'f' && size == 8) return DType::f64;
  if (kind == 'i' && size == 1) return DType::i8;
  if (kind == 'i' && size == 4) return DType::i32;
  if (kind == 'i' && size == 8) return DType::i64;
  return std::nullopt;
}

py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::f32: return py::dtype::of<float>();
    case DType::f64: return py::dtype::of<double>();
    case DType::i8: return py::dtype::of<int8_t>();
    case DType::i32: return py::dtype::of<int32_t>();
    case DType::i64: return py::dtype::of<int64_t>();
  }
  throw std::logic_error("unknown dtype");
}

py::array as_array(const py::handle& object, const std::string& what) {
  if (py::isinstance<py::array>(object)) return py::reinterpret_borrow<py::array>(object);
  try {
    return py::array::ensure(object);
  } catch (const py::error_already_set&) {
  }
  throw py::type_error(what + ": expected a NumPy array (or something numpy.asarray takes), got " +
                       std::string(py::str(py::type::of(object).attr("__name__"))));
}

Shape shape_of(const py::array& a) {
  return Shape(a.shape(), a.shape() + a.ndim());
}

}  // namespace

Tensor tensor_from(const py::handle& object, std::optional<DType> want, const std::string& what) {
  py::array a = as_array(object, what);
  std::optional<DType> have = engine_dtype(a.dtype());
  const bool contiguous = (a.flags() & py::array::c_style) != 0;
  if (have && (!want || *have == *want) && contiguous) {
    void* data = const_cast<void*>(a.data());
    Shape shape = shape_of(a);  // both before `a` moves into the owner
    return Tensor::from_external(data, std::move(shape), *have, keep_alive(std::move(a)));
  }
  const DType target = want ? *want : have.value_or(DType::f32);
  if (!have && a.dtype().kind() != 'f' && a.dtype().kind() != 'i' && a.dtype().kind() != 'u' &&
      a.dtype().kind() != 'b')
    throw py::type_error(what + ": arrays of dtype " + std::string(py::str(a.dtype())) +
                         " have no numeric meaning here (use float32 or an integer type)");
  // numpy converts (and makes contiguous); the tensor then owns a copy.
  py::array converted = py::array::ensure(
      py::module_::import("numpy").attr("ascontiguousarray")(a, numpy_dtype(target)));
  Tensor t = Tensor::empty(shape_of(converted), target);
  std::memcpy(t.raw(), converted.data(), t.nbytes());
  return t;
}

Tensor writable_f32(const py::handle& object, const std::string& what) {
  if (!py::isinstance<py::array>(object))
    throw py::type_error(what + ": expected a NumPy float32 array to update in place, got " +
                         std::string(py::str(py::type::of(object).attr("__name__"))));
  py::array a = py::reinterpret_borrow<py::array>(object);
  if (engine_dtype(a.dtype()) != DType::f32)
    throw py::type_error(what + ": expected dtype float32 (updated in place), got " +
                         std::string(py::str(a.dtype())) + "; use arr.astype(numpy.float32)");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(what + ": the array is not C-contiguous, so it cannot be updated in "
                          "place; pass numpy.ascontiguousarray(arr) and keep that copy");
  if (!a.writeable()) throw py::value_error(what + ": the array is read-only");
  void* data = a.mutable_data();
  Shape shape = shape_of(a);
  return Tensor::from_external(data, std::move(shape), DType::f32, keep_alive(std::move(a)));
}

py::array to_numpy(const Tensor& t) {
  auto* shared = new Tensor(t);
  py::capsule owner(shared, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(numpy_dtype(t.dtype()), t.shape(), {}, t.raw(), owner);
}

std::map<std::string, Tensor> tensors_from(const py::dict& arrays, const std::string& what) {
  std::map<std::string, Tensor> out;
  for (const auto& [key, value] : arrays) {
    const std::string name = py::str(key);
    out[name] = tensor_from(value, std::nullopt, what + "['" + name + "']");
  }
  return out;
}

py::dict to_numpy(const std::map<std::string, Tensor>& tensors) {
  py::dict out;
  for (const auto& [name, t] : tensors) out[py::str(name)] = to_numpy(t);
  return out;
}

}  // namespace chimera::python
