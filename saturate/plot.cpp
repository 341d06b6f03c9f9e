#include "saturate/plot.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace saturn::saturate {

bool gnuplot_figure(const std::filesystem::path& svg, const std::string& data,
                    const std::string& script, PlotSize size) {
  if (!gnuplot_plot(svg, data, script, size)) return false;
  std::filesystem::path png = svg;
  png.replace_extension(".png");
  return gnuplot_plot(png, data, script, size);
}

bool gnuplot_svg(const std::filesystem::path& svg, const std::string& data,
                 const std::string& script) {
  return gnuplot_figure(svg, data, script);
}

bool gnuplot_plot(const std::filesystem::path& svg, const std::string& data,
                  const std::string& script, PlotSize size) {
  namespace fs = std::filesystem;
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    fmt::print(stderr,
               "saturn: gnuplot not found; skipped {} (scripts/install-deps.sh installs it)\n",
               svg.string());
    return false;
  }
  static std::atomic<long> counter{0};
  const fs::path dir = fs::temp_directory_path() /
                       fmt::format("saturn-plot-{}-{}", ::getpid(), counter.fetch_add(1));
  const bool png = svg.extension() == ".png";
  // noenhanced: names such as brody.random-points or L0_H1 are printed as written.
  const std::string terminal =
      png ? fmt::format("pngcairo size {},{} noenhanced background rgb 'white'", size.width,
                        size.height)
          : fmt::format("svg size {},{} dynamic noenhanced background rgb 'white'", size.width,
                        size.height);
  fs::create_directories(dir);
  const fs::path data_file = dir / "data.tsv", script_file = dir / "plot.gp";
  const fs::path tmp = svg.string() + ".tmp";
  std::ofstream(data_file) << data;
  std::ofstream(script_file) << fmt::format("set terminal {}\nset output '{}'\ndata = '{}'\n{}\n",
                                            terminal, tmp.string(), data_file.string(), script);
  const int rc = std::system(
      fmt::format("gnuplot '{}' 2>'{}'", script_file.string(), (dir / "err.txt").string()).c_str());
  std::string err;
  if (rc != 0) {
    std::ifstream e(dir / "err.txt");
    err.assign(std::istreambuf_iterator<char>(e), {});
  }
  fs::remove_all(dir);
  if (rc != 0) {
    fs::remove(tmp);
    throw std::runtime_error(fmt::format("gnuplot failed for {}: {}", svg.string(), err));
  }
  fs::rename(tmp, svg);
  return true;
}

}  // namespace saturn::saturate
