// Binary cross-entropy with logits, for recognition (one logit per word) and next-symbol
// prediction (one logit per symbol and prefix, multi-label): mean over the entries whose mask is 1.
//   loss = softplus(z) - y z,  dloss/dz = sigmoid(z) - y
#pragma once

namespace saturn::nets {

// logits, targets, mask (N); mask null means all ones. Returns the mean loss over masked entries.
template <class T>
T bce_forward(const T* logits, const T* targets, const T* mask, long N);
// dlogits (N) += (sigmoid(z) - y) * mask / count, count = number of masked entries.
template <class T>
void bce_backward(T* dlogits, const T* logits, const T* targets, const T* mask, long N);

}  // namespace saturn::nets
