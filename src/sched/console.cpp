#include "sched/console.hpp"

namespace hetsweep::sched {

void tell(std::FILE* out, std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0) {
    std::clearerr(out);  // the reader is gone: later messages are dropped the same way
  }
}

}  // namespace hetsweep::sched
