// The pieces of a data-parallel training step (communicator.h): each rank takes its shard of the
// global batch, gradients are combined so every rank applies the same update, the batch-norm
// buffers follow rank 0 (as PyTorch's DistributedDataParallel broadcasts them), and the weights
// are compared across ranks now and then.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "model/layers/module.h"
#include "train/parallel/communicator.h"

namespace chimera {

// Rows [begin, end) of a global batch of `total` for `rank` of `size`: contiguous, sizes differing
// by at most one, earlier ranks taking the extra rows.
struct Shard {
  int64_t begin, end;
  int64_t size() const { return end - begin; }
};
Shard shard_of(int64_t total, int rank, int size);
// Rows [s.begin, s.end) of `t` (dimension 0), copied.
Tensor rows_of(const Tensor& t, const Shard& s);

// Each rank's gradients are of the mean loss over its shard; scaled by shard / total and summed
// in rank order they become the gradient of the mean over the global batch, identical on every
// rank. Every rank must have a non-empty shard.
void combine_gradients(const std::vector<Var>& params, Communicator& comm, int64_t shard,
                       int64_t total);

// Synchronised batch normalisation for the coming step (--sync-batchnorm): every BatchNorm2d in
// `model` normalises with the statistics of all ranks' shards together, and its backward uses
// the gradient sums of the global batch (this rank holding `shard` of `total` examples); the
// ternary layers' per-tensor activation scale is the global batch's absmax too. So N ranks
// compute what one process would on the whole batch, to float rounding.
void sync_batch_norm(Module& model, Communicator& comm, int64_t shard, int64_t total);

// Rank 0's buffers (batch-norm running statistics) to every rank.
void broadcast_buffers(Module& model, Communicator& comm);

// A 64-bit FNV-1a hash of every parameter's bytes.
uint64_t weights_hash(const std::vector<Var>& params);
// An error naming the step and the ranks when any rank's weights differ from rank 0's.
void check_same_weights(const std::vector<Var>& params, Communicator& comm, int64_t step);

}  // namespace chimera
