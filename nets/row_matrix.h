// The row-major Eigen matrix the kernels view flat buffers as (nets/ stores activations row by
// row). Included only by kernel sources, never by a public header.
#pragma once

#include <Eigen/Core>

namespace saturn::nets {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace saturn::nets
