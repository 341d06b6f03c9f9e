#include "base/lines.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/interrupt.h"

namespace saturn {

int LineReader::get() {
  try {
    return in_.rdbuf()->sbumpc();
  } catch (const std::exception&) {
    // libstdc++'s filebuf throws on a read error (EISDIR, EIO): a message, not its text.
    throw InputError(fmt::format("{}: cannot read after line {} ({})", source_, number_,
                                 std::strerror(errno ? errno : EIO)));
  }
}

bool LineReader::next(std::string& line) {
  line.clear();
  bool any = false;
  while (true) {
    const int c = get();
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
  // CRLF line ends (files written on Windows) read as LF ones.
  if (!line.empty() && line.back() == '\r') line.pop_back();
  ++number_;
  if ((number_ & 0xfff) == 0) check_interrupt();
  return true;
}

void LineReader::fail(const std::string& what) const {
  throw InputError(fmt::format("{}:{}: {}", source_, number_, what));
}

std::string visible(std::string_view text, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace saturn
