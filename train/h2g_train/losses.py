"""The two losses of H2GNET.md ("Training").

Cluster-weighted categorical cross-entropy: for each class c present in the batch, the samples of
class c are split by cluster; each non-empty cluster contributes the mean of sum_j y_ij log p_ij over
its samples; those means are summed and divided by the number of non-empty clusters K_c; the classes
are averaged and the result negated. A cluster (or class) absent from the batch contributes nothing
and is not counted. The authors' code (src/utils/losses.py) does the same, with two differences that
only matter at the margins: their y is clipped to [1e-7, 1 - 1e-7] too (adding 1e-7 log p of the other
class), and a class absent from the batch makes their loss NaN; here it is left out of the average.
As there, log p is clipped at log(1e-7) (so a saturated wrong answer stops pulling, as Keras' clip).

Dice loss (the authors' Unet.get_dice_loss, no background): per sample, tumour channel,
1 - (2 sum(p t) + 1) / (sum(p^2) + sum(t^2) + 1), averaged over the batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

EPSILON = 1e-7


def cluster_weighted_ce(
    logits: torch.Tensor, labels: torch.Tensor, clusters: torch.Tensor, n_clusters: int
) -> torch.Tensor:
    """logits (B, C), labels (B,) class indices, clusters (B,) cluster ids in [0, n_clusters)."""
    n_classes = logits.shape[1]
    logp = F.log_softmax(logits.float(), dim=1).clamp(math.log(EPSILON), math.log1p(-EPSILON))
    y = F.one_hot(labels.long(), n_classes).float()  # (B, C)
    q = F.one_hot(clusters.long(), n_clusters).float()  # (B, K)
    term = (y * logp).sum(dim=1)  # (B,) sum_j y_ij log p_ij
    sums = torch.einsum("bc,bk,b->ck", y, q, term)  # per class and cluster
    counts = torch.einsum("bc,bk->ck", y, q)
    nonempty = counts > 0
    per_cluster = torch.where(nonempty, sums / counts.clamp(min=1), torch.zeros_like(sums))
    k_c = nonempty.sum(dim=1)  # non-empty clusters per class
    present = k_c > 0
    per_class = per_cluster.sum(dim=1)[present] / k_c[present]
    return -per_class.mean()


def dice_loss(tumour_prob: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """tumour_prob and target (B, H, W), target in {0, 1}."""
    p, t = tumour_prob.float().flatten(1), target.float().flatten(1)
    dice = (2 * (p * t).sum(1) + smooth) / ((p * p).sum(1) + (t * t).sum(1) + smooth)
    return (1 - dice).mean()


def hard_dice(tumour_prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample Dice of the thresholded prediction (> 0.5), 1 when both are empty."""
    p, t = (tumour_prob > 0.5).float().flatten(1), target.float().flatten(1)
    inter, total = (p * t).sum(1), p.sum(1) + t.sum(1)
    return torch.where(total > 0, 2 * inter / total.clamp(min=1), torch.ones_like(total))
