"""The two losses against values computed by hand from H2GNET.md's definitions."""

import math

import torch

from h2g_train.losses import cluster_weighted_ce, dice_loss, hard_dice

# Five patches, two classes, three clusters; cluster 1 holds none of them (an empty cluster).
P = [[0.8, 0.2], [0.6, 0.4], [0.5, 0.5], [0.3, 0.7], [0.1, 0.9]]
LABELS = [0, 0, 0, 1, 1]
CLUSTERS = [0, 0, 2, 0, 0]


def batch():
    logits = torch.tensor(P, dtype=torch.float64).log().requires_grad_()  # log_softmax(log p) = log p
    return logits, torch.tensor(LABELS), torch.tensor(CLUSTERS)


def test_cluster_weighted_ce_by_hand_with_an_empty_cluster():
    logits, y, q = batch()
    loss = cluster_weighted_ce(logits, y, q, n_clusters=3)
    # class 0: clusters 0 (patches 0, 1) and 2 (patch 2) are non-empty: K = 2
    class0 = ((math.log(0.8) + math.log(0.6)) / 2 + math.log(0.5)) / 2
    # class 1: only cluster 0 (patches 3, 4): K = 1
    class1 = (math.log(0.7) + math.log(0.9)) / 2
    expected = -(class0 + class1) / 2
    assert abs(loss.item() - expected) < 1e-6
    assert abs(loss.item() - 0.380543) < 1e-5
    plain = -sum(math.log(p[c]) for p, c in zip(P, LABELS)) / 5  # 0.3778: the weighting matters
    assert abs(loss.item() - plain) > 1e-3


def test_each_patch_weighs_one_over_its_cluster_size_clusters_and_classes():
    logits, y, q = batch()
    cluster_weighted_ce(logits, y, q, 3).backward()
    # weight = 1 / (patches in its class-cluster * non-empty clusters of its class * classes present)
    w = [1 / (2 * 2 * 2), 1 / (2 * 2 * 2), 1 / (1 * 2 * 2), 1 / (2 * 1 * 2), 1 / (2 * 1 * 2)]
    for i, (p, c) in enumerate(zip(P, LABELS)):
        # d(-log p_c)/d logit_j = p_j - [j == c]
        expected = [w[i] * (p[j] - (j == c)) for j in range(2)]
        assert torch.allclose(logits.grad[i], torch.tensor(expected, dtype=torch.float64), atol=1e-9)


def test_cluster_ids_only_group_and_an_absent_class_is_left_out():
    logits, y, q = batch()
    renamed = torch.tensor([2, 2, 1, 2, 2])  # the same partition under other ids
    assert torch.isclose(cluster_weighted_ce(logits, y, q, 3), cluster_weighted_ce(logits, y, renamed, 3))
    only0 = cluster_weighted_ce(logits[:3], y[:3], q[:3], 3)
    assert abs(only0.item() + ((math.log(0.8) + math.log(0.6)) / 2 + math.log(0.5)) / 2) < 1e-6
    assert torch.isfinite(only0)


def test_log_probabilities_are_clipped_as_keras_clips():
    logits = torch.tensor([[30.0, -30.0]], requires_grad=True)
    loss = cluster_weighted_ce(logits, torch.tensor([1]), torch.tensor([0]), 1)
    assert abs(loss.item() - (-math.log(1e-7))) < 1e-3
    loss.backward()
    assert torch.count_nonzero(logits.grad) == 0


def test_dice_loss_and_hard_dice_by_hand():
    p = torch.tensor([[[1.0, 0.5], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    t = torch.tensor([[[1.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    # sample 0: (2 * 1.5 + 1) / (1.25 + 2 + 1) = 4 / 4.25; sample 1: (0 + 1) / (0 + 0 + 1) = 1
    assert abs(dice_loss(p, t).item() - (1 - 4 / 4.25) / 2) < 1e-6
    # thresholded at 0.5: sample 0 predicts one pixel of two -> 2 / 3; sample 1 both empty -> 1
    assert torch.allclose(hard_dice(p, t), torch.tensor([2 / 3, 1.0]))
