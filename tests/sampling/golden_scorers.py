"""Reference scorer values for test_sampling (Scorers.GoldenPython), written with torch only.

Prints "N T C", the probabilities, then one line per method: "<method> v_0 ... v_{N-1}".
Independent of the C++ code: plain tensor formulas, float64.
"""
import torch

torch.manual_seed(1234)
N, T, C = 64, 6, 5
logits = torch.randn(N, T, C, dtype=torch.float64) * 2.0
probs = torch.softmax(logits, -1)
probs[0] = torch.tensor([1.0, 0, 0, 0, 0], dtype=torch.float64)  # one-hot rows
probs[1, :, :] = 1.0 / C                                           # uniform rows
# Print with full precision and re-read the rounded values, so both sides use the same input.
text = " ".join(repr(float(v)) for v in probs.flatten())
probs = torch.tensor([float(v) for v in text.split()], dtype=torch.float64).view(N, T, C)

def xlogx(p):
    return torch.where(p > 0, p * torch.log(p.clamp_min(1e-300)), torch.zeros_like(p))

mean = probs.mean(1)
top2 = mean.topk(2, dim=1).values
entropy = -xlogx(mean).sum(1)
cond = -xlogx(probs).sum(2).mean(1)
votes = torch.nn.functional.one_hot(probs.argmax(2), C).sum(1)
scores = {
    "least_confidence": 1 - top2[:, 0],
    "margin": 1 - (top2[:, 0] - top2[:, 1]),
    "ratio": top2[:, 1] / top2[:, 0],
    "entropy": entropy,
    "bald": (entropy - cond).clamp_min(0),
    "variation_ratios": 1 - votes.max(1).values.double() / T,
    "mean_std": probs.std(1, unbiased=False).mean(1),
}
print(N, T, C)
print(text)
for name, v in scores.items():
    print(name, " ".join(repr(float(x)) for x in v))
