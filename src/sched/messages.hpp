#pragma once
// What the master and the workers send each other over Boost.MPI.
//
// Every rank runs the same binary, so the trivially copyable science types travel as their bytes.

#include <boost/serialization/binary_object.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "sched/compute.hpp"
#include "science/metrics.hpp"
#include "science/params.hpp"
#include "science/run.hpp"

namespace hetsweep::sched {

// tag_work: a batch of runs; tag_results: one result per run of a batch, in order; tag_interrupt: stop the
// runs in progress (a stop signal reached the master); tag_stop: leave the worker loop.
enum Tag : int { tag_work = 1, tag_results = 2, tag_stop = 3, tag_interrupt = 4 };

}  // namespace hetsweep::sched

namespace boost::serialization {

template <class Archive>
void serialize(Archive& ar, hetsweep::science::Params& p, unsigned /*version*/) {
  static_assert(std::is_trivially_copyable_v<hetsweep::science::Params>);
  ar& make_binary_object(&p, sizeof p);
}

template <class Archive>
void serialize(Archive& ar, hetsweep::science::Metrics& m, unsigned /*version*/) {
  static_assert(std::is_trivially_copyable_v<hetsweep::science::Metrics>);
  ar& make_binary_object(&m, sizeof m);
}

template <class Archive>
void serialize(Archive& ar, hetsweep::science::Record& r, unsigned /*version*/) {
  static_assert(std::is_trivially_copyable_v<hetsweep::science::Record>);
  ar& make_binary_object(&r, sizeof r);
}

template <class Archive>
void serialize(Archive& ar, hetsweep::science::PendingRun& run, unsigned /*version*/) {
  ar& run.row& run.params& run.seed;
}

template <class Archive>
void serialize(Archive& ar, hetsweep::sched::WorkResult& w, unsigned /*version*/) {
  auto& o = w.outcome;
  ar& o.row& o.status& o.wall_seconds& o.result.status& o.result.steps_done& o.result.records& o.result.final_metrics& w
      .error;
}

}  // namespace boost::serialization
