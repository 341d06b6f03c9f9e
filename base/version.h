// What this saturn is: its version (one place, project(VERSION) in CMakeLists.txt, which the
// Python package reads too), the commit it was built from, and how it was built.
#pragma once

namespace saturn {

// "MAJOR.MINOR.PATCH", from project(VERSION) in CMakeLists.txt.
const char* version();
// The git commit at build time (12 hex digits, "-dirty" when tracked files differed), or
// "unknown" when built outside a git checkout (a tarball).
const char* commit();
// True for -march=native code (the default), false for SATURN_PORTABLE's baseline code.
bool native_build();

}  // namespace saturn
