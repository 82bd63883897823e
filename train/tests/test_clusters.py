"""Clusters: standardise -> PCA -> k-means, fitted with scikit-learn, assigned in torch."""

import numpy as np
import torch

from h2g_train.clusters import Clusterer


def blobs(seed=0, k=4, n=60, dim=40):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (k, dim))
    labels = np.repeat(np.arange(k), n)
    return centres[labels] + rng.normal(0, 1, (k * n, dim)), labels


def test_separated_groups_get_one_cluster_each():
    x, labels = blobs()
    c = Clusterer.fit(x, k=4, seed=1)
    assert c.k == 4
    got = c.assign(torch.from_numpy(x).float()).numpy()
    # the partition matches the truth up to renaming
    for g in range(4):
        assert len(set(got[labels == g])) == 1
    assert len(set(got)) == 4


def test_assignment_is_the_nearest_centroid_after_standardising_and_projecting():
    x, _ = blobs(seed=2, k=3)
    c = Clusterer.fit(x, k=3, seed=0)
    z = ((x - c.mean) / c.scale - c.pca_mean) @ c.components.T
    nearest = ((z[:, None, :] - c.centroids[None]) ** 2).sum(-1).argmin(1)
    assert np.array_equal(c.assign(torch.from_numpy(x).float()).numpy(), nearest)


def test_state_round_trip_and_too_few_distinct_points():
    x, _ = blobs(seed=3, k=2)
    c = Clusterer.fit(x, k=2, seed=0)
    again = Clusterer.from_state(c.state())
    t = torch.from_numpy(x).float()
    assert torch.equal(c.assign(t), again.assign(t))
    same = np.repeat(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]]), 20, axis=0)
    assert Clusterer.fit(same, k=10, seed=0).k == 2  # no empty centroids from duplicated points
