"""Per-patch cluster ids for the cluster-weighted loss: features -> standardise -> PCA -> nearest
k-means centroid (the authors' StandardizerLayer, PCALayer and KmeansClusteringLayer), fitted once on a
sample of training patches at the start of a run. The features are the global-average-pooled backbone
output of a frozen copy of the starting network (the installed model when fine-tuning, else the seeded
initial weights), as the authors clustered CNN features. Fitting uses scikit-learn; assignment runs in
torch on the training device."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

PCA_VARIANCE = 0.95
PCA_MAX_COMPONENTS = 128


class Clusterer:
    def __init__(self, mean, scale, pca_mean, components, centroids):
        self.mean = np.asarray(mean, np.float32)
        self.scale = np.asarray(scale, np.float32)
        self.pca_mean = np.asarray(pca_mean, np.float32)
        self.components = np.asarray(components, np.float32)  # (n_components, n_features)
        self.centroids = np.asarray(centroids, np.float32)  # (k, n_components)
        self._device_tensors = {}

    @property
    def k(self) -> int:
        return len(self.centroids)

    @classmethod
    def fit(cls, features: np.ndarray, k: int, seed: int) -> "Clusterer":
        features = np.asarray(features, np.float64)
        mean = features.mean(axis=0)
        scale = features.std(axis=0)
        scale[scale < 1e-8] = 1.0  # constant features carry nothing; keep them at 0
        z = (features - mean) / scale
        n_comp = min(PCA_MAX_COMPONENTS, z.shape[0], z.shape[1])
        pca = PCA(n_components=n_comp, random_state=seed).fit(z)
        keep = int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), PCA_VARIANCE) + 1)
        keep = max(1, min(keep, n_comp))
        reduced = (z - pca.mean_) @ pca.components_[:keep].T
        distinct = len(np.unique(np.round(reduced, 6), axis=0))
        km = KMeans(n_clusters=min(k, distinct), n_init=10, random_state=seed).fit(reduced)
        return cls(mean, scale, pca.mean_, pca.components_[:keep], km.cluster_centers_)

    def _tensors(self, device):
        key = str(device)
        if key not in self._device_tensors:
            self._device_tensors[key] = [
                torch.from_numpy(a).to(device)
                for a in (self.mean, self.scale, self.pca_mean, self.components, self.centroids)
            ]
        return self._device_tensors[key]

    def assign(self, features: torch.Tensor) -> torch.Tensor:
        mean, scale, pca_mean, components, centroids = self._tensors(features.device)
        z = ((features.float() - mean) / scale - pca_mean) @ components.T
        return torch.cdist(z, centroids).argmin(dim=1)

    def state(self) -> dict:
        return {n: getattr(self, n) for n in ("mean", "scale", "pca_mean", "components", "centroids")}

    @classmethod
    def from_state(cls, state: dict) -> "Clusterer":
        return cls(**{n: np.asarray(v) for n, v in state.items()})
