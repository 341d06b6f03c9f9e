#include "verify/constructions/constructions.h"

#include <fmt/format.h>

#include <functional>

#include "base/error.h"
#include "saturate/exact_eval.h"

namespace saturn::verify {

namespace {

// A circuit under construction: named residual dimensions, weights set by (row, column).
class Builder {
 public:
  Builder(nets::ModelConfig config, std::vector<std::string> alphabet)
      : alphabet_(alphabet), model_(config, static_cast<int>(alphabet.size())) {}
  int symbols() const { return static_cast<int>(alphabet_.size()); }
  int bos() const { return symbols(); }
  int eos() const { return symbols() + 1; }
  void set(const std::string& tensor, int row, int col, double value) {
    const nets::TensorInfo* t = model_.layout().find(tensor);
    if (!t) throw std::logic_error("construction: no tensor " + tensor);
    const int cols = t->shape.size() > 1 ? t->shape[1] : 1;
    model_.param(tensor)[row * cols + col] = value;
  }
  // Embedding of token `token` in dimension `dim`.
  void embed(int token, int dim, double v) { set("embed.wte", token, dim, v); }
  // Query / key / value row `r` of head-space reads residual dimension `dim`.
  void q(int l, int r, int dim, double v) { set(lname(l, "attn.wqkv"), r, dim, v); }
  void k(int l, int r, int dim, double v) {
    set(lname(l, "attn.wqkv"), model_.config().d_model + r, dim, v);
  }
  void v(int l, int r, int dim, double v) {
    set(lname(l, "attn.wqkv"), 2 * model_.config().d_model + r, dim, v);
  }
  void out(int l, int dim, int r, double v) { set(lname(l, "attn.wo"), dim, r, v); }
  void ffn_in(int l, int unit, int dim, double v) { set(lname(l, "ffn.w1"), unit, dim, v); }
  void ffn_out(int l, int dim, int unit, double v) { set(lname(l, "ffn.w2"), dim, unit, v); }
  void head(int dim, double v) { set("head.w", 0, dim, v); }
  saturate::Circuit finish(const std::string& language, const std::string& comment) {
    saturate::Circuit c = saturate::make_circuit(model_.config(), model_.params,
                                                 Alphabet(alphabet_), 8, saturate::TieRule{});
    c.language_name = language;
    c.comment = comment;
    return c;
  }

 private:
  static std::string lname(int l, const char* what) { return fmt::format("layers.{}.{}", l, what); }
  std::vector<std::string> alphabet_;
  nets::Transformer<double> model_;
};

nets::ModelConfig base_config(int d_model, int n_heads, int n_layers, int d_ff) {
  nets::ModelConfig c;
  c.d_model = d_model, c.n_heads = n_heads, c.n_layers = n_layers, c.d_ff = d_ff;
  c.norm_position = nets::NormPosition::none;
  c.positional = nets::Positional::none;
  c.bias = false;
  c.readout = nets::Readout::bos;
  c.max_length = 64;
  return c;
}

saturate::Circuit majority(bool broken) {
  // dims: 0 token sign (a +1, b -1, BOS -1/2), 1 BOS flag, 2 EOS flag, 3 the average.
  Builder b(base_config(4, 1, 1, 4), {"a", "b"});
  b.embed(0, 0, 1), b.embed(1, 0, -1);
  b.embed(b.bos(), 0, broken ? 0.5 : -0.5);  // broken: ties (#a = #b) accepted
  b.embed(b.bos(), 1, 1), b.embed(b.eos(), 2, 1);
  b.v(0, 0, 0, 1);    // all scores 0: uniform average of the signs
  b.out(0, 3, 0, 1);  // dim 3 = (#a - #b -+ 1/2) / (n + 2)
  b.head(3, 1);
  return b.finish(
      "majority",
      "majority: BOS attends uniformly (all scores 0) and averages the token signs "
      "(#a - #b - 1/2) / (n + 2); accept when positive (Merrill et al. 2021)." +
          std::string(broken ? " BROKEN: BOS carries +1/2, so ties are accepted." : ""));
}

saturate::Circuit first(bool broken) {
  // dims: 0 sign ('1' +1, '0' -1), 1 BOS flag, 2 "at position p" flag, 3 the attended sign.
  nets::ModelConfig c = base_config(4, 1, 1, 4);
  c.positional = nets::Positional::learned;
  Builder b(c, {"0", "1"});
  b.embed(0, 0, -1), b.embed(1, 0, 1), b.embed(b.bos(), 1, 1);
  b.set("embed.wpe", broken ? 2 : 1, 2, 1);  // broken: looks at the second symbol
  b.q(0, 0, 1, 1);                           // BOS asks for the flagged position
  b.k(0, 0, 2, 1);
  b.v(0, 0, 0, 1);
  b.out(0, 3, 0, 1);
  b.head(3, 1), b.head(1, -0.5);  // logit = sign at position 1 - 1/2 (EOS there: -1/2)
  return b.finish("first",
                  "first: a local head attends from BOS to position 1 (learned position flag), "
                  "copies its sign, and the readout subtracts 1/2." +
                      std::string(broken ? " BROKEN: it attends to position 2." : ""));
}

saturate::Circuit dyck1(bool broken) {
  // dims: 0 sign, 1 BOS flag, 2 one, 3 b = prefix balance / (i + 1), 4 u = 1 / (i + 1),
  // 5 m = the most negative prefix balance (layer 2), 6 the verdict accumulator.
  nets::ModelConfig c = base_config(8, 2, 2, 4);
  c.causal = true;
  c.readout = nets::Readout::eos;
  Builder b(c, {"(", ")"});
  b.embed(0, 0, 1), b.embed(1, 0, -1), b.embed(b.bos(), 1, 1);
  for (int t = 0; t < 4; ++t) b.embed(t, 2, 1);
  // Layer 1: two uniform causal heads (all scores 0).
  b.v(0, 0, 0, 1), b.out(0, 3, 0, 1);  // b_i
  b.v(0, 4, 1, 1), b.out(0, 4, 4, 1);  // u_i
  // Layer 2, head 0: scores -b_j, so the argmax is the most negative prefix; copy its b.
  b.q(1, 0, 2, 1), b.k(1, 0, 3, -1), b.v(1, 0, 3, 1), b.out(1, 5, 0, 1);
  // FFN: relu(-m), relu(b - u/2), relu(-b - u/2) into dim 6.
  b.ffn_in(1, 0, 5, -1);
  b.ffn_in(1, 1, 3, 1), b.ffn_in(1, 1, 4, -0.5);
  b.ffn_in(1, 2, 3, -1), b.ffn_in(1, 2, 4, -0.5);
  b.ffn_out(1, 6, 0, broken ? 0 : -1);  // broken: no prefix check
  b.ffn_out(1, 6, 1, -2), b.ffn_out(1, 6, 2, -2);
  b.head(6, 1), b.head(4, 0.5);  // logit = u/2 - relu(-m) - 2|b| beyond u/2
  return b.finish(
      "dyck-1",
      "dyck1: layer 1 averages bracket signs causally (prefix balance / (i+1), and 1/(i+1) "
      "from BOS); layer 2 at EOS attends hard to the most negative prefix; accept when no "
      "prefix is negative and the total is 0, with margin u/2 = 1/(2(n+2))." +
          std::string(broken ? " BROKEN: the prefix check is missing." : ""));
}

saturate::Circuit anbn(bool broken) {
  // dims: 0 sign (a +1, b -1), 1 BOS flag, 2 one, 3 position t, 4 t^2, 5 d = (#a - #b)/(n+2),
  // 6 u = 1/(n+2), 7 previous sign, 8 "ba" flag, 9 flags averaged, 10 verdict.
  nets::ModelConfig c = base_config(12, 3, 2, 4);
  c.positional = nets::Positional::learned;
  c.max_length = 62;
  Builder b(c, {"a", "b"});
  b.embed(0, 0, 1), b.embed(1, 0, -1), b.embed(b.bos(), 1, 1);
  for (int t = 0; t < 4; ++t) b.embed(t, 2, 1);
  for (int t = 0; t < c.max_length + 2; ++t)
    b.set("embed.wpe", t, 3, t), b.set("embed.wpe", t, 4, double(t) * t);
  // Layer 1: head 0 uniform signs -> d; head 1 uniform BOS flag -> u; head 2 previous position:
  // q_i = (1, 2(i - 1)), k_j = (-j^2, j): q.k = -(j - (i - 1))^2 + const.
  b.v(0, 0, 0, 1), b.out(0, 5, 0, 1);
  b.v(0, 4, 1, 1), b.out(0, 6, 4, 1);
  b.q(0, 8, 2, 1), b.k(0, 8, 4, -1);
  b.q(0, 9, 3, 2), b.q(0, 9, 2, -2), b.k(0, 9, 3, 1);
  b.v(0, 8, 0, 1), b.out(0, 7, 8, 1);
  // FFN 1: "ba" at i = relu(sign_i - prev_i - 1).
  b.ffn_in(0, 0, 0, 1), b.ffn_in(0, 0, 7, -1), b.ffn_in(0, 0, 2, -1);
  b.ffn_out(0, 8, 0, 1);
  // Layer 2: uniform average of the flags.
  b.v(1, 0, 8, 1), b.out(1, 9, 0, 1);
  // FFN 2: relu(d - u/2), relu(-d - u/2).
  b.ffn_in(1, 0, 5, 1), b.ffn_in(1, 0, 6, -0.5);
  b.ffn_in(1, 1, 5, -1), b.ffn_in(1, 1, 6, -0.5);
  b.ffn_out(1, 10, 0, -2), b.ffn_out(1, 10, 1, -2);
  b.head(10, 1), b.head(6, 0.5), b.head(9, broken ? 0 : -2);  // broken: no order check
  return b.finish(
      "anbn",
      "anbn: uniform attention counts (#a - #b)/(n+2) and 1/(n+2); a head attends to "
      "the previous position (scores -(j-(i-1))^2 from positions t, t^2) and the FFN "
      "flags each 'ba'; layer 2 averages the flags; accept when balanced and unflagged." +
          std::string(broken ? " BROKEN: the order check is missing." : ""));
}

}  // namespace

const std::vector<std::string>& construction_names() {
  static const std::vector<std::string> names = {"majority", "dyck1", "anbn", "first"};
  return names;
}

std::string construction_language(const std::string& name) {
  if (name == "dyck1") return "dyck-1";
  if (name == "majority" || name == "anbn" || name == "first") return name;
  throw InputError(
      fmt::format("unknown construction '{}' (known: majority, dyck1, anbn, first)", name));
}

saturate::Circuit build_construction(const std::string& name, bool broken) {
  construction_language(name);
  if (name == "majority") return majority(broken);
  if (name == "first") return first(broken);
  if (name == "dyck1") return dyck1(broken);
  return anbn(broken);
}

}  // namespace saturn::verify
