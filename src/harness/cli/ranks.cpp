#include "harness/cli/ranks.h"

#include <cstdlib>
#include <string>

#include "engine/error.h"
#ifdef CHIMERA_WITH_MPI
#include "harness/mpi/mpi_communicator.h"
#include "harness/mpi/sweep_farm.h"
#endif

namespace chimera {

std::unique_ptr<Communicator> launched_communicator() {
#ifdef CHIMERA_WITH_MPI
  const MpiSession& mpi = MpiSession::get();
  if (mpi.size() > 1) return std::make_unique<MpiCommunicator>(mpi);
  return nullptr;
#else
  const char* ranks = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!ranks) ranks = std::getenv("PMI_SIZE");
  CHIMERA_CHECK(!ranks || std::string(ranks) == "1", "started by mpirun with ", ranks,
                " ranks, but this build has no MPI support (apt-get install libopenmpi-dev "
                "openmpi-bin, then build again)");
  return nullptr;
#endif
}

SweepResult run_launched_sweep(const SweepArgs& args, std::ostream& out) {
#ifdef CHIMERA_WITH_MPI
  const MpiSession& mpi = MpiSession::get();
  if (mpi.size() > 1) return run_sweep_farm(args, out, mpi);
#else
  launched_communicator();  // an error under mpirun with several ranks
#endif
  return run_sweep(args, out);
}

double communication_seconds(const Communicator* comm) {
#ifdef CHIMERA_WITH_MPI
  if (const auto* mpi = dynamic_cast<const MpiCommunicator*>(comm)) return mpi->seconds();
#endif
  return 0.0;
}

void end_all_ranks_after_error() {
#ifdef CHIMERA_WITH_MPI
  MpiSession::get().abort_all(1);
#endif
}

}  // namespace chimera
