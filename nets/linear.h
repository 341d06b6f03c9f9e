// Linear maps (llm.c style): out (N,OC) = inp (N,C) @ weight^T (OC,C) + bias (OC).
// Matrix products go through Eigen; backward accumulates (+=) into the gradient buffers.
#pragma once

namespace saturn::nets {

// bias may be null.
template <class T>
void linear_forward(T* out, const T* inp, const T* weight, const T* bias, int N, int C, int OC);

// dinp (N,C) += dout @ weight; dweight (OC,C) += dout^T @ inp; dbias (OC) += sum_n dout.
// dinp and dbias may be null (input needs no gradient / no bias).
template <class T>
void linear_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int N, int C, int OC);

}  // namespace saturn::nets
