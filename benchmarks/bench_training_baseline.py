"""Python baseline of benchmarks/bench_training.cpp: the same work written the way a
PyTorch user would write it, on Debian's torch (same LibTorch 1.13 underneath).

Run by bench_training with /usr/bin/python3; prints one line per measurement:
"name images_per_second images_per_cpu_second" (CPU: this process's CPU time):
  plain     Gal CNN forward + softmax over the 60,000 training images, batches of 256
  mc_full   MC-dropout T passes, baal style: each batch of 32 repeated T times, dropout on
  mc_head   MC-dropout T passes: trunk once per batch of 256, head T times (fresh masks)
  train     one epoch of Adam (lr 1e-3, batch 64) over N images, augmentation (pad 2,
            random 28x28 crop, horizontal flip) in a DataLoader with 2 worker processes
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def load(directory, split):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels


class GalCnn(nn.Module):
    """conv32 -> conv32 -> max-pool -> dropout .25 -> dense 128 -> dropout .5 -> dense 10 (4x4 kernels)."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4)
        self.conv2 = nn.Conv2d(32, 32, 4)
        self.fc1 = nn.Linear(32 * 11 * 11, 128)
        self.fc2 = nn.Linear(128, classes)

    def trunk(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return F.max_pool2d(h, 2).flatten(1)

    def head(self, h, sample):
        h = F.relu(self.fc1(F.dropout(h, 0.25, sample)))
        return self.fc2(F.dropout(h, 0.5, sample))

    def forward(self, x):
        return self.head(self.trunk(x), self.training)


class Clock:
    """Wall and process-CPU time since construction."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def rates(self, n):
        return n / (time.perf_counter() - self.wall), n / (time.process_time() - self.cpu)


def to_batch(images):
    return torch.from_numpy(images).float().div_(255).unsqueeze(1)


def plain(model, images, batch=256):
    model.eval()
    clock = Clock()
    with torch.no_grad():
        for b in range(0, len(images), batch):
            torch.softmax(model(to_batch(images[b:b + batch])), 1)
    return clock.rates(len(images))


def mc_full(model, images, passes, batch=32):
    model.eval()
    clock = Clock()
    with torch.no_grad():
        for b in range(0, len(images), batch):
            x = to_batch(images[b:b + batch])
            x = x.repeat(passes, 1, 1, 1)  # baal's MCDropoutModule
            logits = model.head(model.trunk(x), True)
            torch.softmax(logits.view(passes, -1, logits.shape[-1]), 2)
    return clock.rates(len(images))


def mc_head(model, images, passes, batch=256):
    model.eval()
    clock = Clock()
    with torch.no_grad():
        for b in range(0, len(images), batch):
            h = model.trunk(to_batch(images[b:b + batch]))
            torch.stack([torch.softmax(model.head(h, True), 1) for _ in range(passes)], 1)
    return clock.rates(len(images))


class Augmented(torch.utils.data.Dataset):
    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = np.pad(self.images[i], 2)
        y, x = np.random.randint(0, 5, size=2)
        img = img[y:y + 28, x:x + 28]
        if np.random.rand() < 0.5:
            img = img[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray(img)).float().div_(255).unsqueeze(0), int(self.labels[i])


def train(model, images, labels, batch=64):
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(Augmented(images, labels), batch_size=batch, shuffle=True, num_workers=2)
    clock = Clock()
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return clock.rates(len(images))  # CPU: this process only, not the loader's workers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--mc-full-pool", type=int, default=1000)
    ap.add_argument("--mc-head-pool", type=int, default=2000)
    ap.add_argument("--train-images", type=int, default=10000)
    ap.add_argument("--only", default="plain,mc_full,mc_head,train")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: every core)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads or os.cpu_count())
    torch.manual_seed(0)
    np.random.seed(0)
    images, labels = load(args.data, "train")
    model = GalCnn()
    only = args.only.split(",")
    if "plain" in only:
        print("plain", *plain(model, images), flush=True)
    if "mc_full" in only:
        print("mc_full", *mc_full(model, images[:args.mc_full_pool], args.passes), flush=True)
    if "mc_head" in only:
        print("mc_head", *mc_head(model, images[:args.mc_head_pool], args.passes), flush=True)
    if "train" in only:
        n = args.train_images
        print("train", *train(model, images[:n], labels[:n]), flush=True)


if __name__ == "__main__":
    main()
