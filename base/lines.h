// Line-by-line reading with a bound on each line, so that a file without newlines (/dev/zero, a
// binary file given by mistake) is refused instead of read into memory whole. Errors name
// SOURCE:LINE.
#pragma once

#include <istream>
#include <string>
#include <string_view>

namespace saturn {

class LineReader {
 public:
  static constexpr std::size_t kDefaultMaxLine = std::size_t(1) << 26;  // 64 MiB

  LineReader(std::istream& in, std::string source, std::size_t max_line = kDefaultMaxLine)
      : in_(in), source_(std::move(source)), max_line_(max_line) {}

  // The next line without its '\n' or "\r\n" (a final line without one counts); false at the
  // end. A read error throws InputError naming SOURCE.
  bool next(std::string& line);
  long line_number() const { return number_; }
  const std::string& source() const { return source_; }
  // Throws InputError "SOURCE:LINE: what".
  [[noreturn]] void fail(const std::string& what) const;

 private:
  int get();
  std::istream& in_;
  std::string source_;
  std::size_t max_line_;
  long number_ = 0;
};

// `text` as a message may quote it: control characters written as \r, \t, \n or \xNN, and
// at most `max_chars` characters of it (then "...").
std::string visible(std::string_view text, std::size_t max_chars = 40);

}  // namespace saturn
