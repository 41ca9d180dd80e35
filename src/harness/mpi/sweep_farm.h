// `mpirun -np N chimera sweep ...`: the sweep as an MPI task farm. Rank 0 hands out
// configurations as ranks free up (itself included, from a thread), collects every outcome and
// writes sweep.jsonl, merged.jsonl and the report, as the local sweep does. The runs' files
// go to --out, which every rank must see (a shared file system on a cluster).
#pragma once

#include <ostream>

#include "harness/experiments/sweep.h"
#include "harness/mpi/mpi_session.h"

namespace chimera {

// On rank 0 the sweep's result; on the other ranks an empty one.
SweepResult run_sweep_farm(const SweepArgs& args, std::ostream& out, const MpiSession& mpi);

}  // namespace chimera
