#include "harness/mpi/mpi_communicator.h"

#include <mpi.h>

#include <chrono>
#include <climits>
#include <vector>

#include "engine/error.h"

namespace chimera {

namespace {

// Adds the wall time of its scope to a counter.
class Timed {
 public:
  explicit Timed(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Timed() {
    total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

template <class T>
void sum_ordered(T* data, int64_t n, int ranks, MPI_Datatype type) {
  CHIMERA_CHECK(n <= INT_MAX, "data-parallel sum of ", n, " values is beyond one MPI message");
  std::vector<T> all(static_cast<size_t>(n) * static_cast<size_t>(ranks));
  MPI_Allgather(data, static_cast<int>(n), type, all.data(), static_cast<int>(n), type,
                MPI_COMM_WORLD);
  for (int64_t i = 0; i < n; ++i) {
    T s = all[static_cast<size_t>(i)];
    for (int r = 1; r < ranks; ++r) s += all[static_cast<size_t>(r) * n + i];
    data[i] = s;
  }
}

}  // namespace

void MpiCommunicator::sum_in_rank_order(float* data, int64_t n) {
  const Timed t(seconds_);
  sum_ordered(data, n, size(), MPI_FLOAT);
}

void MpiCommunicator::sum_in_rank_order(double* data, int64_t n) {
  const Timed t(seconds_);
  sum_ordered(data, n, size(), MPI_DOUBLE);
}

void MpiCommunicator::max(float* data, int64_t n) {
  const Timed t(seconds_);
  CHIMERA_CHECK(n <= INT_MAX, "data-parallel max of ", n, " values is beyond one MPI message");
  MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
}

void MpiCommunicator::broadcast(void* data, size_t bytes, int root) {
  const Timed t(seconds_);
  CHIMERA_CHECK(bytes <= INT_MAX, "broadcast of ", bytes, " bytes is beyond one MPI message");
  MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
}

std::vector<uint64_t> MpiCommunicator::all_gather(uint64_t value) {
  const Timed t(seconds_);
  std::vector<uint64_t> all(static_cast<size_t>(size()));
  MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  return all;
}

}  // namespace chimera
