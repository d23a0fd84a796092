"""Writes the TorchScript files the training tests load (run with /usr/bin/python3).

usage: make_torchscript.py OUT_DIR
  net.pt          small CNN with BatchNorm, method `embed` -> [B, 32], head `fc` (10 classes)
  net_dropout.pt  the same with a Dropout(0.3) inside the backbone
  io.pt           buffers x [4, 1, 28, 28] and y = net(x) (eval mode), to compare with C++
"""
import os
import sys

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, p: float = 0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.drop = nn.Dropout(p)
        self.lin = nn.Linear(16 * 5 * 5, 32)
        self.fc = nn.Linear(32, 10)

    @torch.jit.export
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        h = torch.max_pool2d(torch.relu(self.conv2(h)), 2)
        return torch.relu(self.lin(self.drop(h.flatten(1))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.embed(x))


class Holder(nn.Module):
    def __init__(self, x, y):
        super().__init__()
        self.register_buffer("x", x)
        self.register_buffer("y", y)

    def forward(self) -> torch.Tensor:
        return self.y


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    net = Net()
    # Non-trivial BatchNorm statistics, as a pretrained file would have.
    net.train()
    with torch.no_grad():
        net(torch.rand(64, 1, 28, 28))
    net.eval()
    torch.jit.script(net).save(os.path.join(out, "net.pt"))
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        y = net(x)
    torch.jit.script(Holder(x, y)).save(os.path.join(out, "io.pt"))
    torch.manual_seed(4)
    torch.jit.script(Net(0.3).eval()).save(os.path.join(out, "net_dropout.pt"))


if __name__ == "__main__":
    main()
