// Figures through gnuplot (Debian's gnuplot-nox): a data file and a script in a temporary
// directory, the SVG written to a temporary name and renamed.
#pragma once

#include <filesystem>
#include <string>

namespace saturn::saturate {

// Runs `script` (which reads the data from the file named by the gnuplot variable `data`)
// with terminal svg and output to `svg`. Returns false, with a message on stderr, when
// gnuplot is not installed; throws on a gnuplot error.
bool gnuplot_svg(const std::filesystem::path& svg, const std::string& data,
                 const std::string& script);
// The same, with the terminal chosen by the extension: .svg, or .png (pngcairo).
bool gnuplot_plot(const std::filesystem::path& out, const std::string& data,
                  const std::string& script);

}  // namespace saturn::saturate
