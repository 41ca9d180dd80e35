// A learnable synthetic stand-in for CIFAR-10, written in its binary format so that training on
// it runs the real loader. Each class is a shape or texture (see kShapeClassNames) of random
// size, drawn at a random position in a random colour on a random background, plus pixel noise.
// Translation and the random colours leave a linear classifier on raw pixels little to use (the
// class-mean images are all the same flat grey), while a convolutional network that detects
// the shape anywhere separates the classes.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "train/data/cifar_binary.h"

namespace chimera {

inline constexpr std::array<const char*, 10> kShapeClassNames = {
    "square",         "square_outline", "disc",      "ring",     "plus",
    "diagonal_cross", "h_stripes",      "v_stripes", "triangle", "checkerboard"};

// `count` images labelled index mod 10. Image i depends only on (seed, split, i), so a smaller
// set is a prefix of a larger one, and the train (split 0) and test (split 1) sets differ.
CifarRecords generate_shapes_records(int64_t count, uint64_t seed, int split);

// Writes data_batch_1..5.bin (the train set in five nearly equal parts), test_batch.bin and
// batches.meta.txt (class names, one per line) into `dir`, creating it if needed.
void write_synthetic_cifar(const std::string& dir, int64_t train_count, int64_t test_count,
                           uint64_t seed);

}  // namespace chimera
