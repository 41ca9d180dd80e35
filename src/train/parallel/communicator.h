// Data parallelism as the trainers see it: other processes train the same model on other shards
// of each batch. The interface is all the train layer knows; the MPI implementation lives at the
// program's edge (src/harness/mpi/mpi_communicator.h), and without one a run is rank 0 of 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chimera {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise sum over the ranks, added in rank order (((r0 + r1) + r2) ...): every rank gets
  // the same bits, and the same run twice gives the same result.
  virtual void sum_in_rank_order(float* data, int64_t n) = 0;
  virtual void sum_in_rank_order(double* data, int64_t n) = 0;
  // Element-wise maximum over the ranks (exact in any order).
  virtual void max(float* data, int64_t n) = 0;
  // Root's bytes to every rank.
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Every rank's value, in rank order.
  virtual std::vector<uint64_t> all_gather(uint64_t value) = 0;
};

}  // namespace chimera
