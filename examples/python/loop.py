"""The loop from Python: a language from a spec, samples, a trained model, its attention saved as
an image, the extracted circuit, verified. Writes more-a.toml, loop-run/ and attention.png here."""
import matplotlib
matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import saturn

open("more-a.toml", "w").write('name = "more-a"\nalphabet = ["a", "b"]\n[accept]\ncounts = ["#a > #b"]\n')
lang = saturn.Language.from_spec("more-a.toml")
words, labels = lang.sample("1:6", 2, negatives="uniform", seed=1)
print(lang.name, lang.language_class, "count(40) =", lang.count(40), "sample:", words[:6])
run = saturn.train(lang, {"d_model": 16, "n_heads": 1, "n_layers": 1, "d_ff": 32, "seed": 1,
                          "norm_position": "none", "positional": "none", "readout": "bos",
                          "max_length": 24, "steps": 300, "lr": 0.003, "train_lengths": "1:12",
                          "test_lengths": "13:24", "negatives": "mixed"}, out="loop-run", overwrite=True)
print("trained: in range", run.summary["in_range_accuracy"], "out of range", run.summary["out_of_range_accuracy"])
logits, cache = run.model().forward(["aabab", "abbab"], cache=True)
pattern = cache["blocks.0.attn.hook_pattern"]  # (words, heads, query, key)
plt.colorbar(plt.imshow(pattern[0, 0]))  # nearly uniform: a counting head
plt.title("more-a, 'aabab': layer 0 head 0"), plt.xlabel("key"), plt.ylabel("query")
plt.savefig("attention.png", dpi=80)
print("accepts:", (logits > 0).tolist(), "BOS attends:", pattern[0, 0, 0].round(2), "-> attention.png")
r = saturn.extract("loop-run", against="more-a.toml", max_length=14, method="enumerate", exhaustive_max=4096)
print("circuit", r["circuit"], "faithful", r["faithfulness_in"], r["verdict"], "to", r["proved_up_to"])
v = saturn.verify(r["circuit"], against="more-a.toml", max_length=18)
print("verify to 18:", v["verdict"], "by", v["method"])
