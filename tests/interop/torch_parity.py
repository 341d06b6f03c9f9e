#!/usr/bin/python3
"""PyTorch parity for saturn's transformer (make test-interop).

For pre/post LayerNorm x softmax/relu attention: saturn trains one Adam step on a fixed batch
of Dyck-1 words of mixed lengths (padding included), writing ckpt-0 (initial) and ckpt-1.
This script rebuilds the same model in PyTorch from ckpt-0, and checks
  - the logits equal saturn's (saturn eval --data --logits) to 1e-4, and
  - one torch.optim.Adam step gives ckpt-1's parameters to 1e-5.
Excluded from the second check: the key part of the QKV bias under softmax attention. Its
gradient is analytically zero (softmax is shift-invariant), so both sides compute rounding
noise there, which Adam's first step normalises into an arbitrary +-lr update.
Usage: /usr/bin/python3 tests/interop/torch_parity.py path/to/saturn
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
SATURN = sys.argv[1] if len(sys.argv) > 1 else "build/saturn"
LR = 0.01


def run(*args):
    subprocess.run([SATURN, *args], check=True, stdout=subprocess.DEVNULL)


def load(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(t["shape"]).copy()
    return meta, tensors


def batch(path, k):
    words = [json.loads(line) for line in open(path)]
    names = ["(", ")"]
    seqs = [[k] + [names.index(c) for c in w["word"]] + [k + 1] for w in words]
    T = max(map(len, seqs))
    tokens = torch.tensor([s + [k + 1] * (T - len(s)) for s in seqs])
    lengths = torch.tensor([len(s) for s in seqs])
    labels = torch.tensor([float(w["label"]) for w in words])
    return tokens, lengths, labels


def forward(P, tokens, lengths, norm, attn, layers, heads, eps=1e-5):
    B, T = tokens.shape
    C = P["embed.wte"].shape[1]
    dh = C // heads
    valid = torch.arange(T)[None, :] < lengths[:, None]                 # (B, T)
    x = (P["embed.wte"][tokens] + P["embed.wpe"][:T][None]) * valid[..., None]
    ln = lambda v, name: F.layer_norm(v, (C,), P[name + ".g"], P[name + ".b"], eps)
    for l in range(layers):
        p = f"layers.{l}."
        a_in = ln(x, p + "ln1") if norm == "pre" else x
        qkv = a_in @ P[p + "attn.wqkv"].T + P[p + "attn.bqkv"]
        q, k, v = (qkv[..., i * C:(i + 1) * C].reshape(B, T, heads, dh).transpose(1, 2) for i in range(3))
        s = q @ k.transpose(-1, -2) / dh ** 0.5                          # (B, H, T, T)
        keys = valid[:, None, None, :]
        if attn == "softmax":
            a = s.masked_fill(~keys, float("-inf")).softmax(-1)
        else:  # relu(q.k / sqrt(dh)) / n, n = keys the query sees (alpha = 1)
            a = F.relu(s) * keys / lengths[:, None, None, None]
        a = a * valid[:, None, :, None]                                  # padded queries: 0
        ao = (a @ v).transpose(1, 2).reshape(B, T, C)
        s1 = x + ao @ P[p + "attn.wo"].T + P[p + "attn.bo"]
        mid = ln(s1, p + "ln1") if norm == "post" else s1
        f_in = ln(mid, p + "ln2") if norm == "pre" else mid
        s2 = mid + F.relu(f_in @ P[p + "ffn.w1"].T + P[p + "ffn.b1"]) @ P[p + "ffn.w2"].T + P[p + "ffn.b2"]
        x = ln(s2, p + "ln2") if norm == "post" else s2
    if norm == "pre":
        x = ln(x, "lnf")
    return (x[:, 0] @ P["head.w"].T + P["head.b"])[:, 0]                 # BOS readout


def check(norm, attn, work):
    data = os.path.join(work, "data.jsonl")
    run("lang", "sample", "dyck-1", "--lengths", "0:9", "--per-length", "2", "--negatives", "uniform",
        "--seed", "5", "-o", data)
    n = sum(1 for _ in open(data))
    out = os.path.join(work, f"run-{norm}-{attn}")
    run("train", "--lang", "dyck-1", "-q", "--out", out, "--set", "d_model=16", "--set", "n_heads=2",
        "--set", "n_layers=2", "--set", "d_ff=32", "--set", f"norm_position={norm}", "--set", f"attention={attn}",
        "--set", "positional=learned", "--set", "readout=bos", "--set", "max_length=12", "--set", "init_std=0.2",
        "--set", f"batch_size={n}", "--set", "steps=1", "--set", "checkpoint_every=1", "--set", "eval_every=0",
        "--set", "eval_per_length=1", "--set", "train_lengths=0:9", "--set", "test_lengths=10:10",
        "--set", "optimizer=adam", "--set", f"lr={LR}", "--set", f"data={data}", "--set", "seed=3")
    logits_path = os.path.join(work, "logits.json")
    run("eval", os.path.join(out, "ckpt-0.safetensors"), "--data", data, "--logits", logits_path)
    _, p0 = load(os.path.join(out, "ckpt-0.safetensors"))
    _, p1 = load(os.path.join(out, "ckpt-1.safetensors"))
    P = {k: torch.tensor(v, requires_grad=True) for k, v in p0.items() if not k.startswith("optimizer.")}
    tokens, lengths, labels = batch(data, 2)
    z = forward(P, tokens, lengths, norm, attn, 2, 2)
    saturn_z = torch.tensor(json.load(open(logits_path))["logits"])
    logit_err = (z.detach() - saturn_z).abs().max().item()
    opt = torch.optim.Adam(P.values(), lr=LR)
    F.binary_cross_entropy_with_logits(z, labels).backward()
    opt.step()
    param_err, worst = 0.0, ""
    for name, t in P.items():
        diff = (t.detach() - torch.tensor(p1[name])).abs()
        if name.endswith("attn.bqkv") and attn == "softmax":
            C = diff.shape[0] // 3
            diff = torch.cat([diff[:C], diff[2 * C:]])  # leave out the key bias (see above)
        if diff.max().item() > param_err:
            param_err, worst = diff.max().item(), name
    ok = logit_err <= 1e-4 and param_err <= 1e-5
    print(f"{'ok  ' if ok else 'FAIL'} norm={norm:<4} attention={attn:<7} words={n:<3} "
          f"max |logit diff| {logit_err:.2e} (<= 1e-4)   max |param diff| after one Adam step "
          f"{param_err:.2e} (<= 1e-5, worst {worst})")
    return ok


def main():
    results = []
    with tempfile.TemporaryDirectory() as work:
        for norm in ("pre", "post"):
            for attn in ("softmax", "relu"):
                results.append(check(norm, attn, work))
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
