"""The loop from Python: a language from a spec, samples, a trained model (by `saturn train`:
training is not in the package yet), its logits and attention, the extracted circuit, verified.
Usage: loop.py [SATURN_BINARY] (default: saturn on PATH); writes into ./loop-run."""
import subprocess, sys
import saturn

spec = 'name = "more-a"\nalphabet = ["a", "b"]\n[accept]\ncounts = ["#a > #b"]\n'
open("more-a.toml", "w").write(spec)
lang = saturn.Language.from_spec("more-a.toml")
words, labels = lang.sample("1:6", 2, negatives="uniform", seed=1)
print(lang.name, lang.language_class, "count(40) =", lang.count(40), "sample:", words[:6])
sets = ["d_model=16", "n_heads=1", "n_layers=1", "d_ff=32", "norm_position=none", "seed=1",
        "positional=none", "readout=bos", "max_length=24", "steps=300", "lr=0.003",
        "train_lengths=1:12", "test_lengths=13:24", "negatives=mixed"]
subprocess.run([sys.argv[1] if len(sys.argv) > 1 else "saturn", "train", "--lang", "more-a.toml",
                "--out", "loop-run", "--overwrite", "-q"] + [a for s in sets for a in ("--set", s)],
               check=True)
model = saturn.load("loop-run")
logits, cache = model.forward(["aab", "abb"], cache=True)
pattern = cache["blocks.0.attn.hook_pattern"]  # (words, heads, query, key)
print("accepts:", (logits > 0).tolist(), "BOS attends:", pattern[0, 0, 0].round(2))
r = saturn.extract("loop-run", against="more-a.toml", max_length=14, method="enumerate",
                   exhaustive_max=4096)
print("circuit", r["circuit"], "faithful", r["faithfulness_in"], r["verdict"], "to",
      r["proved_up_to"])
v = saturn.verify(r["circuit"], against="more-a.toml", max_length=18)
print("verify to 18:", v["verdict"], "by", v["method"])
