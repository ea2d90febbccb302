#include "sched/isa_agreement.hpp"

#include <fmt/format.h>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/environment.hpp>

namespace hetsweep::sched {

std::vector<std::string> ranks_of_another_isa(const boost::mpi::communicator& world, std::string_view own_isa) {
  namespace mpi = boost::mpi;
  const std::string isa(own_isa), host = mpi::environment::processor_name();
  if (world.rank() != 0) {
    mpi::gather(world, isa, 0);
    mpi::gather(world, host, 0);
    return {};
  }
  std::vector<std::string> isas, hosts;
  mpi::gather(world, isa, isas, 0);
  mpi::gather(world, host, hosts, 0);
  std::vector<std::string> others;
  for (std::size_t rank = 1; rank < isas.size(); ++rank) {
    if (isas[rank] != isa) others.push_back(fmt::format("rank {} on {} ({})", rank, hosts[rank], isas[rank]));
  }
  return others;
}

}  // namespace hetsweep::sched
