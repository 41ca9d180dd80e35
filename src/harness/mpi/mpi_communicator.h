// The trainers' Communicator over MPI_COMM_WORLD (see src/train/parallel/communicator.h).
#pragma once

#include "harness/mpi/mpi_session.h"
#include "train/parallel/communicator.h"

namespace chimera {

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(const MpiSession& session) : session_(session) {}
  int rank() const override { return session_.rank(); }
  int size() const override { return session_.size(); }
  // Every rank's buffer is gathered to every rank (MPI_Allgather) and added up in rank order
  // here: MPI_Allreduce may pick its own order, and then the bits could differ between runs.
  void sum_in_rank_order(float* data, int64_t n) override;
  void sum_in_rank_order(double* data, int64_t n) override;
  void max(float* data, int64_t n) override;
  void broadcast(void* data, size_t bytes, int root) override;
  std::vector<uint64_t> all_gather(uint64_t value) override;
  // Wall time spent inside MPI calls so far (waiting for the other ranks included).
  double seconds() const { return seconds_; }

 private:
  const MpiSession& session_;
  double seconds_ = 0;
};

}  // namespace chimera
