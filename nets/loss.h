// Losses. Binary cross-entropy with logits, for recognition (one logit per word) and next-symbol
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

// Softmax cross-entropy per row, for the per-position multi-class objective (label):
//   loss_r = logsumexp(z_r) - z_r[y_r],  dloss/dz_rc = softmax(z_r)_c - [c = y_r]
// logits (N, K), targets (N) class indices in 0..K-1 stored as T, mask (N) (null: all ones).
// Returns the mean loss over masked rows (0 when none).
template <class T>
T softmax_ce_forward(const T* logits, const T* targets, const T* mask, long N, int K);
// dlogits (N, K) += (softmax(z_r) - onehot(y_r)) * mask_r / count.
template <class T>
void softmax_ce_backward(T* dlogits, const T* logits, const T* targets, const T* mask, long N,
                         int K);

}  // namespace saturn::nets
