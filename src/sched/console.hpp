#pragma once
// Messages to the user's terminal or log, which may have gone away (`hetsweep run … 2>&1 | head`, a closed
// ssh session): a write that fails is dropped, never an error, so losing the reader never fails a sweep.
// `run` also ignores SIGPIPE, which would otherwise kill the process at such a write.

#include <cstdio>
#include <string_view>

namespace hetsweep::sched {

void tell(std::FILE* out, std::string_view text);

}  // namespace hetsweep::sched
