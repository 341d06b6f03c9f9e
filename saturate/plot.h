// Figures through gnuplot (Debian's gnuplot-nox): a data file and a script in a temporary
// directory, each output written to a temporary name and renamed.
#pragma once

#include <filesystem>
#include <string>

namespace saturn::saturate {

// A figure's size in pixels (SVG and PNG alike).
struct PlotSize {
  int width = 800, height = 500;
};

// Every figure saturn draws with gnuplot goes through here: runs `script` (which reads the data
// from the file named by the gnuplot variable `data`) twice, writing `svg` and the PNG beside it
// (same name, .png; pngcairo), so the two always show the same figure. Returns false, with a
// message on stderr, when gnuplot is not installed; throws on a gnuplot error.
bool gnuplot_figure(const std::filesystem::path& svg, const std::string& data,
                    const std::string& script, PlotSize size = {});
// The same as gnuplot_figure (kept for its callers).
bool gnuplot_svg(const std::filesystem::path& svg, const std::string& data,
                 const std::string& script);
// One output, with the terminal chosen by the extension: .svg, or .png (pngcairo).
bool gnuplot_plot(const std::filesystem::path& out, const std::string& data,
                  const std::string& script, PlotSize size = {});

}  // namespace saturn::saturate
