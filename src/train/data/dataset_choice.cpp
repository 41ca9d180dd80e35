#include "train/data/dataset_choice.h"

#include "engine/error.h"
#include "train/data/fashion_mnist.h"

namespace chimera {

DatasetKind parse_dataset_kind(const std::string& name) {
  if (name == "cifar10") return DatasetKind::cifar10;
  if (name == "fashion-mnist") return DatasetKind::fashion_mnist;
  if (name == "synthetic") return DatasetKind::synthetic;
  CHIMERA_FAIL("unknown dataset '", name, "'; choose cifar10, fashion-mnist or synthetic");
}

const char* dataset_kind_name(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::cifar10:
      return "cifar10";
    case DatasetKind::fashion_mnist:
      return "fashion-mnist";
    case DatasetKind::synthetic:
      return "synthetic";
  }
  return "?";
}

std::string default_dataset_root(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::cifar10:
      return "data";
    case DatasetKind::fashion_mnist:
      return kFashionMnistDir;
    case DatasetKind::synthetic:
      return "";
  }
  return "";
}

int64_t dataset_channels(DatasetKind kind) { return kind == DatasetKind::fashion_mnist ? 1 : 3; }

}  // namespace chimera
