#pragma once
// Every rank of a sweep must compute with kernels of the same instruction-set level (src/science/isa.hpp),
// the master's: results of two levels round differently and are never mixed in one file.

#include <boost/mpi/communicator.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace hetsweep::sched {

// Collective, once before the sweep: each rank reports its level to rank 0. On rank 0, the ranks whose level
// differs from `own_isa` (rank 0's), each as "rank 2 on n2 (x86-64)"; empty elsewhere.
std::vector<std::string> ranks_of_another_isa(const boost::mpi::communicator& world, std::string_view own_isa);

}  // namespace hetsweep::sched
