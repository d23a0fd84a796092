"""alx: active learning for image labeling.

The work runs in C++ (the compiled extension ``alx._alx``); numpy arrays and torch
tensors go in and come out. torch is imported first so that torch.Tensor arguments and
results share LibTorch with the extension.

    import alx
    s = alx.score(probs, "entropy")                       # probs: [N, C] or [N, T, C]
    batch = alx.select(100, "kcenter", embeddings=emb, labeled=pool.labeled_mask(), seed=0)
"""
import torch as _torch  # noqa: F401  (must load LibTorch's Python side before _alx)

from . import _alx
from ._alx import *  # noqa: F401,F403
from ._alx import __doc__ as _doc, __version__  # noqa: F401

__all__ = [name for name in dir(_alx) if not name.startswith("_")]
