#include "nets/linear.h"

#include <Eigen/Core>

namespace saturn::nets {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Map = Eigen::Map<RowMatrix<T>>;
template <class T>
using ConstMap = Eigen::Map<const RowMatrix<T>>;

template <class T>
void linear_forward(T* out, const T* inp, const T* weight, const T* bias, int N, int C, int OC) {
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
  if (bias) o.rowwise() += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias, OC);
}

template <class T>
void linear_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int N, int C, int OC) {
  ConstMap<T> g(dout, N, OC);
  if (dinp) Map<T>(dinp, N, C).noalias() += g * ConstMap<T>(weight, OC, C);
  Map<T>(dweight, OC, C).noalias() += g.transpose() * ConstMap<T>(inp, N, C);
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
