// MPI at the edge of the program: the engine, model and train layers never see it. A process
// started by mpirun or srun initialises MPI here; one started any other way runs as today
// (rank 0 of 1) without touching MPI, so the same binary serves both.
#pragma once

namespace chimera {

class MpiSession {
 public:
  // Initialises MPI on first use when the launcher's environment says so
  // (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK); finalised at exit.
  static MpiSession& get();
  bool active() const { return active_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int ranks_on_this_node() const { return local_size_; }
  // MPI_Abort over every rank when MPI is active with more than one; otherwise nothing.
  void abort_all(int code) const;
  ~MpiSession();

 private:
  MpiSession();
  bool active_ = false;
  int rank_ = 0, size_ = 1, local_size_ = 1;
};

}  // namespace chimera
