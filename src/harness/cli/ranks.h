// How many processes mpirun (or srun) started for this command, as a Communicator for the
// trainers. Without MPI in the build, a launch of several ranks is an error (they would all
// do the whole job over the same files).
#pragma once

#include <memory>
#include <ostream>

#include "harness/experiments/sweep.h"
#include "train/parallel/communicator.h"

namespace chimera {

// Null when this process runs alone (no launcher, or one rank).
std::unique_ptr<Communicator> launched_communicator();

// A sweep as this launch runs it: under mpirun with several ranks the MPI task farm (rank 0
// reports), else every configuration from this process.
SweepResult run_launched_sweep(const SweepArgs& args, std::ostream& out);

// Seconds this process spent communicating with the other ranks (0 without MPI).
double communication_seconds(const Communicator* comm);

// After an error on one rank of several: ends every rank (MPI_Abort), since the others may be
// waiting for this one in a collective and would wait forever. Does nothing otherwise.
void end_all_ranks_after_error();

}  // namespace chimera
