#include "nets/linear.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>

#include "nets/row_matrix.h"

namespace saturn::nets {

template <class T>
using Map = Eigen::Map<RowMatrix<T>>;
template <class T>
using ConstMap = Eigen::Map<const RowMatrix<T>>;
template <class T>
using ConstStridedMap = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;

namespace {

// Products are split into blocks of rows, one per thread, each block a single-threaded Eigen
// product (EIGEN_DONT_PARALLELIZE: Eigen's own parallel product spin-waits for its helpers
// whatever OpenMP's wait policy, and collapses on a busy machine). The blocks depend only on the
// sizes and the thread count, so results are deterministic for a thread count. A block has at
// least 2 rows (see product_rows) and 2^18 multiply-adds: smaller work stays on one thread.
int row_blocks(int rows, double multiply_adds) {
  if (omp_get_level() > 0) return 1;  // inside any parallel region, one thread or many
  const double by_work = multiply_adds / double(1 << 18);
  return static_cast<int>(
      std::max(1.0, std::min({double(omp_get_max_threads()), by_work, double(rows / 2)})));
}

// First row of block b of `blocks` over `rows` rows.
int block_start(int rows, int blocks, int b) {
  return static_cast<int>(static_cast<long>(rows) * b / blocks);
}

// out (N,OC) = inp (N,C) @ weight^T (OC,C), on this thread.
template <class T>
void product_rows(T* out, const T* inp, const T* weight, int N, int C, int OC) {
  Map<T> o(out, N, OC);
  if (N == 1 && OC > 1) {
    // Eigen sends a one-row product to its matrix-vector kernel, which sums in another order
    // than the matrix-matrix kernel used for every larger batch. A second (zero) row keeps a
    // batch of one bit-identical to the same row inside a larger batch.
    thread_local RowMatrix<T> two, result;
    two.setZero(2, C);
    two.row(0) = ConstMap<T>(inp, 1, C);
    result.noalias() = two * ConstMap<T>(weight, OC, C).transpose();
    o = result.topRows(1);
  } else {
    o.noalias() = ConstMap<T>(inp, N, C) * ConstMap<T>(weight, OC, C).transpose();
  }
}

}  // namespace

template <class T>
void linear_forward(T* out, const T* inp, const T* weight, const T* bias, int N, int C, int OC) {
  const int blocks = row_blocks(N, double(N) * C * OC);
  if (blocks == 1) {
    product_rows(out, inp, weight, N, C, OC);
  } else {
#pragma omp parallel for schedule(static) num_threads(blocks)
    for (int b = 0; b < blocks; ++b) {
      const int lo = block_start(N, blocks, b), hi = block_start(N, blocks, b + 1);
      product_rows(out + static_cast<long>(lo) * OC, inp + static_cast<long>(lo) * C, weight,
                   hi - lo, C, OC);
    }
  }
  if (bias)
    Map<T>(out, N, OC).rowwise() += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias, OC);
}

template <class T>
void linear_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int N, int C, int OC) {
  ConstMap<T> g(dout, N, OC);
  // dinp: blocks of its N rows; dweight: blocks of its OC rows (columns of dout).
  const int input_blocks = dinp ? row_blocks(N, double(N) * C * OC) : 1;
  const int weight_blocks = row_blocks(OC, double(N) * C * OC);
  if (dinp && input_blocks == 1) {
    Map<T>(dinp, N, C).noalias() += g * ConstMap<T>(weight, OC, C);
  } else if (dinp) {
#pragma omp parallel for schedule(static) num_threads(input_blocks)
    for (int b = 0; b < input_blocks; ++b) {
      const int lo = block_start(N, input_blocks, b), hi = block_start(N, input_blocks, b + 1);
      Map<T>(dinp + static_cast<long>(lo) * C, hi - lo, C).noalias() +=
          ConstMap<T>(dout + static_cast<long>(lo) * OC, hi - lo, OC) * ConstMap<T>(weight, OC, C);
    }
  }
  if (weight_blocks == 1) {
    Map<T>(dweight, OC, C).noalias() += g.transpose() * ConstMap<T>(inp, N, C);
  } else {
#pragma omp parallel for schedule(static) num_threads(weight_blocks)
    for (int b = 0; b < weight_blocks; ++b) {
      const int lo = block_start(OC, weight_blocks, b), hi = block_start(OC, weight_blocks, b + 1);
      Map<T>(dweight + static_cast<long>(lo) * C, hi - lo, C).noalias() +=
          ConstStridedMap<T>(dout + lo, N, hi - lo, Eigen::OuterStride<>(OC)).transpose() *
          ConstMap<T>(inp, N, C);
    }
  }
  if (dbias) Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(dbias, OC) += g.colwise().sum();
}

template void linear_forward<float>(float*, const float*, const float*, const float*, int, int,
                                    int);
template void linear_forward<double>(double*, const double*, const double*, const double*, int, int,
                                     int);
template void linear_backward<float>(float*, float*, float*, const float*, const float*,
                                     const float*, int, int, int);
template void linear_backward<double>(double*, double*, double*, const double*, const double*,
                                      const double*, int, int, int);

}  // namespace saturn::nets
