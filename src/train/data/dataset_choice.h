// Which image set a run trains and evaluates on (--dataset), and where each is read from by
// default (--dataset-root unset).
#pragma once

#include <cstdint>
#include <string>

namespace chimera {

enum class DatasetKind { cifar10, fashion_mnist, synthetic };

// "cifar10", "fashion-mnist", "synthetic"; anything else is an error listing them.
DatasetKind parse_dataset_kind(const std::string& name);
const char* dataset_kind_name(DatasetKind kind);

// CIFAR-10: "data" (where --download puts it); Fashion-MNIST: Debian's folder; synthetic: none.
std::string default_dataset_root(DatasetKind kind);

// Image channels the model's stem takes: 3 (CIFAR-10 and the smoke data), 1 (Fashion-MNIST).
int64_t dataset_channels(DatasetKind kind);

}  // namespace chimera
