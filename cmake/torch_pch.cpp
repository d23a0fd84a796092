// Translation unit that carries the shared <torch/torch.h> precompiled header.
