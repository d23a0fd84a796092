#!/usr/bin/python3
"""Writes quickstart.ipynb (outputs empty) next to this script: edit the cells here, then

    /usr/bin/python3 examples/notebooks/make_quickstart.py
"""
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell("""# alx quickstart: active learning on Fashion-MNIST from Python

alx picks the images a person should label next. Everything below runs in C++
(LibTorch, OpenCV); numpy arrays and torch tensors go in and come out.

We simulate labeling: a pool of Fashion-MNIST images whose labels are hidden behind an
*oracle*, 20 labels to start, then a few rounds of *train → predict → score → select →
label*, once with **random** sampling and once with **margin** sampling, and compare the
learning curves. At the end we look at the batch alx would hand to the labelers next."""),
    new_code_cell("""%matplotlib inline
import os, sys, shutil, time
try:
    import alx
except ImportError:  # run from the source tree without PYTHONPATH: use the build folder
    sys.path.insert(0, os.path.abspath(os.path.join("..", "..", "build", "python")))
    import alx
import numpy as np
import matplotlib.pyplot as plt

alx.log.set_level("warn")
print("alx", alx.__version__, "| samplers:", ", ".join(alx.sampler_names()))"""),
    new_markdown_cell("""## Load Fashion-MNIST through alx

`alx.load_fashion_mnist` reads the IDX files into a `Dataset`: a `Pool` (ids, labels,
class names) and an `ImageSource` (images in memory). We keep a random pool of 2,500
training images and 500 test images so the notebook runs in well under a minute."""),
    new_code_cell("""SEED = 0
train = alx.load_fashion_mnist(alx.FASHION_MNIST_DIR, "train")
test_all = alx.load_fashion_mnist(alx.FASHION_MNIST_DIR, "test")
rng = np.random.default_rng(SEED)
data = train.subset(np.sort(rng.choice(len(train.pool), 2500, replace=False)))
test = test_all.subset(np.sort(rng.choice(len(test_all.pool), 500, replace=False)))
classes = data.pool.schema.names
print(data, test, sep="\\n")

fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for c, ax in enumerate(axes):
    i = int(np.flatnonzero(data.pool.labels == c)[0])
    ax.imshow(data.images.load(i), cmap="gray"); ax.set_title(classes[c], fontsize=8); ax.axis("off")
plt.show()"""),
    new_markdown_cell("""## A simulated labeling run

The pool's labels become the oracle's ground truth; the pool we hand to the loop starts
with 2 labels per class. The `Store` (one HDF5 file) keeps every round, so a killed run
resumes where it stopped. Each round trains a fresh Gal CNN on the labeled items, scores
the unlabeled ones and asks the oracle for 50 more labels."""),
    new_code_cell("""truth = data.pool.labels.copy()
initial = np.concatenate([rng.choice(np.flatnonzero(truth == c), 2, replace=False) for c in range(10)])
OUT = "quickstart_out"
shutil.rmtree(OUT, ignore_errors=True); os.makedirs(OUT)

def run(sampler, params, rounds=4):
    pool = alx.Pool(data.pool.schema, data.pool.ids)           # labels hidden
    pool.add_labels(initial, truth[initial], round=0)
    store = alx.Store.create(f"{OUT}/{sampler}.h5", pool)
    loop = alx.ActiveLoop(
        alx.LoopOptions(sampler=sampler, sampler_params=params, batch_size=50, rounds=rounds, seed=SEED),
        model=alx.make_model(name="gal_cnn", num_classes=10),
        store=store, images=data.images,
        # threads=1: the test suite runs this notebook beside other jobs, and LibTorch's
        # OpenMP threads slow down several-fold on a busy machine; use 0 (every core) on yours.
        trainer=alx.TrainerOptions(epochs=10, batch_size=32, lr=1e-3, seed=SEED, threads=1, workers=1),
        predictor={"batch_size": 256, "threads": 1},
        oracle=alx.TruthOracle(truth),
        eval_images=test.images, eval_labels=test.pool.labels)
    results = []
    t0 = time.time()
    loop.run(lambda r: (results.append(r),
                        print(f"{sampler:>6} round {r.round}: trained on {r.train.num_train:3d} labels, "
                              f"test accuracy {r.metrics.accuracy:.3f}")))
    print(f"{sampler}: {len(results)} rounds in {time.time() - t0:.1f} s")
    return loop, store, results

runs = {"random": run("random", {}),
        "margin": run("topk", {"scorer": "margin"})}"""),
    new_markdown_cell("""## Learning curves

Test accuracy against the number of labels the model was trained on. With 20–170 labels
and one seed the curves are noisy, and uncertainty sampling is not guaranteed to beat
random this early: a weak model's most uncertain images are ambiguous look-alikes (shirt
vs. pullover vs. coat, as the grid below shows) — the *cold-start* effect. Over more
rounds margin sampling pulls ahead of random on Fashion-MNIST (see alx's sampler
benchmark)."""),
    new_code_cell("""fig, ax = plt.subplots(figsize=(6, 4))
for name, (_, _, results) in runs.items():
    ax.plot([r.train.num_train for r in results], [r.metrics.accuracy for r in results], "o-", label=name)
ax.set_xlabel("labeled images"); ax.set_ylabel("test accuracy"); ax.grid(alpha=0.3); ax.legend()
ax.set_title("Fashion-MNIST, Gal CNN, 20 initial labels + 50 per round")
plt.show()"""),
    new_markdown_cell("""## The next batch to label

The last round of the margin run selected 50 images that are now waiting for labels (in a
real project they go to Label Studio or CVAT with the model's pre-annotations). Here they
are, in rank order, with the model's guess and its confidence — the doubtful ones first."""),
    new_code_cell("""loop, store, results = runs["margin"]
last = results[-1]
batch = last.selected[:24]
images = data.images.images(batch)                          # [24, 28, 28] uint8
fig, axes = plt.subplots(3, 8, figsize=(12, 5.2))
for ax, img, idx, pred, conf in zip(axes.flat, images, batch, last.predicted, last.confidence):
    ax.imshow(img, cmap="gray"); ax.axis("off")
    ax.set_title(f"{classes[pred]}? {conf:.2f}\\n(truth: {classes[truth[idx]]})", fontsize=7)
plt.tight_layout(); plt.show()"""),
    new_markdown_cell("""## The same pieces by hand

`alx.score` and `alx.select` work on any numpy array or torch tensor, for instance on the
MC-dropout predictions of the model the loop just trained."""),
    new_code_cell("""predictor = alx.Predictor(mc_passes=10, masks="fixed", threads=1)
unlabeled = store.pool.unlabeled()
mc = predictor.mc_samples(loop.model, data.images, unlabeled)   # torch [N, 10, 10]
bald = alx.score(mc, "bald")                                     # numpy [N]
pick = alx.select(10, "batchbald", probs=mc, seed=SEED, num_samples=500, prefilter=200)
print("MC samples", tuple(mc.shape), "| BALD of the BatchBALD picks:", np.round(bald[pick], 3))
print("pool indices to label next:", unlabeled[pick])"""),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quickstart.ipynb")
nbformat.write(nb, path)
print("wrote", path)
