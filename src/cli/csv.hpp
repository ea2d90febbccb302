#pragma once
// CSV fields (RFC 4180): quoted only when they hold a comma, a quote or a line break, quotes doubled. Reals
// in the shortest text that reads back to the same double; a missing value (NaN) is an empty field, which
// pandas.read_csv and R's read.csv both read as missing.

#include <string>
#include <string_view>
#include <vector>

namespace hetsweep::cli {

std::string csv_field(std::string_view text);
std::string csv_real(double value);
// The fields joined by commas, ended by a line feed.
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace hetsweep::cli
