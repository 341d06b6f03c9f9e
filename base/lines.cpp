#include "base/lines.h"

#include <fmt/format.h>

#include "base/error.h"
#include "base/interrupt.h"

namespace saturn {

bool LineReader::next(std::string& line) {
  line.clear();
  std::streambuf* buf = in_.rdbuf();
  bool any = false;
  while (true) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      if (!any) return false;
      break;
    }
    any = true;
    if (c == '\n') break;
    if (line.size() >= max_line_) {
      ++number_;
      fail(fmt::format("line longer than {} bytes (not a text file of one item per line?)",
                       max_line_));
    }
    line.push_back(static_cast<char>(c));
  }
  ++number_;
  if ((number_ & 0xfff) == 0) check_interrupt();
  return true;
}

void LineReader::fail(const std::string& what) const {
  throw InputError(fmt::format("{}:{}: {}", source_, number_, what));
}

}  // namespace saturn
