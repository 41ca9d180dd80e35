// chimera.read_safetensors / write_safetensors (dicts of arrays) and chimera.load_dataset.
#include "engine/io/safetensors.h"
#include "harness/python/bindings.h"
#include "train/data/cifar_loader.h"
#include "train/data/dataset_choice.h"
#include "train/data/fashion_mnist.h"

namespace chimera::python {

void bind_io(py::module_& m) {
  m.def(
      "read_safetensors",
      [](const std::string& path) {
        Safetensors st = read_safetensors(path);
        return py::make_tuple(to_numpy(st.tensors), st.metadata);
      },
      py::arg("path"),
      "(tensors, metadata) of a safetensors file: a dict of arrays (float32, float64, int8,\n"
      "int32, int64) and the string metadata. A damaged file raises chimera.Error naming it.");
  m.def(
      "write_safetensors",
      [](const std::string& path, const py::dict& tensors,
         const std::map<std::string, std::string>& metadata) {
        write_safetensors(path, tensors_from(tensors, "tensors"), metadata);
      },
      py::arg("path"), py::arg("tensors"), py::arg("metadata") = std::map<std::string, std::string>{},
      "Writes a dict of arrays (and string metadata) to a temporary name, then renames it.");
  m.def(
      "load_dataset",
      [](const std::string& name, const std::string& root) {
        const DatasetKind kind = parse_dataset_kind(name);
        if (kind == DatasetKind::synthetic)
          throw py::value_error("load_dataset: the synthetic data is made per run; use "
                                "'cifar10' or 'fashion-mnist'");
        const std::string folder = root.empty() ? default_dataset_root(kind) : root;
        CifarData d;
        {
          py::gil_scoped_release release;
          d = kind == DatasetKind::cifar10 ? load_cifar(folder) : load_fashion_mnist(folder);
        }
        py::dict out;
        out["train"] = py::make_tuple(to_numpy(d.train.images), to_numpy(d.train.labels));
        out["test"] = py::make_tuple(to_numpy(d.test.images), to_numpy(d.test.labels));
        return out;
      },
      py::arg("name"), py::arg("root") = "",
      "{'train': (images, labels), 'test': (images, labels)} of 'cifar10' or 'fashion-mnist',\n"
      "normalised as training sees them (float32 [N, C, 32, 32], int64 labels). root: the\n"
      "folder (default: the dataset's usual place, as the CLI's --dataset-root).");
}

}  // namespace chimera::python
