// Finding and loading CIFAR-10 from a dataset root. The binary batches may sit in the root itself
// or in the cifar-10-batches-bin/ folder that the official archive extracts to.
#pragma once

#include <optional>
#include <string>

#include "train/data/dataset.h"

namespace chimera {

inline constexpr const char* kCifarFolder = "cifar-10-batches-bin";
inline constexpr const char* kCifarTrainFiles[] = {"data_batch_1.bin", "data_batch_2.bin",
                                                   "data_batch_3.bin", "data_batch_4.bin",
                                                   "data_batch_5.bin"};
inline constexpr const char* kCifarTestFile = "test_batch.bin";

// The folder holding data_batch_1.bin: `root` when it is there, else root/cifar-10-batches-bin;
// nullopt when neither has it.
std::optional<std::string> find_cifar_dir(const std::string& root);

// Train = data_batch_1..5 in order, test = test_batch, both normalised (SPEC §5). Missing data
// is an error naming both places looked in and how to get the files; nothing is downloaded.
CifarData load_cifar(const std::string& root);

}  // namespace chimera
