"""Batch-norm statistics for networks that did not get them from training: a freshly initialised one
(running mean 0 and variance 1 make its eval-mode output meaningless, and the cluster features come
from such a network when training from scratch), and one imported with batch norm folded away."""

from __future__ import annotations

import torch
import torch.nn as nn

from .onnx_import import torch_layers


@torch.no_grad()
def estimate_batch_norm(net: nn.Module, batches) -> None:
    """Running statistics := the exact mean and variance over `batches` (tuples of forward arguments),
    measured in training mode with cumulative averaging; weights are not touched."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, m.training) for m in norms]
    was_training = net.training
    net.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
        m.train()
    try:
        for args in batches:
            net(*args)
    finally:
        for m, (momentum, _) in zip(norms, saved):
            m.momentum = momentum
        net.train(was_training)


@torch.no_grad()
def recalibrate_batch_norm(net: nn.Module, batches) -> None:
    """For each conv + batch norm pair, measures the conv output's per-channel mean and variance on
    `batches` (tuples of forward arguments) in eval mode and rewrites the batch norm so that
    running statistics = measured ones while eval-mode outputs stay the same: gamma' = gamma * sd / sd0,
    beta' = beta + gamma * (mu - mu0) / sd0, mean' = mu, var' = var (sd = sqrt(var + eps))."""
    pairs = [(conv, bn) for kind, conv, bn in torch_layers(net) if kind == "conv" and bn is not None]
    stats = {id(conv): [0.0, 0.0, 0] for conv, _ in pairs}

    def hook(mod, _inputs, out):
        s = stats[id(mod)]
        x = out.transpose(0, 1).flatten(1).double()
        s[0] = s[0] + x.sum(1)
        s[1] = s[1] + (x * x).sum(1)
        s[2] += x.shape[1]

    handles = [conv.register_forward_hook(hook) for conv, _ in pairs]
    was_training = net.training
    net.eval()
    try:
        for args in batches:
            net(*args)
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    for conv, bn in pairs:
        total, sq, n = stats[id(conv)]
        if n == 0:
            continue
        mu = (total / n).float()
        var = (sq / n - (total / n) ** 2).clamp(min=0).float()
        sd0 = torch.sqrt(bn.running_var + bn.eps)
        sd = torch.sqrt(var + bn.eps)
        beta = bn.bias + bn.weight * (mu - bn.running_mean) / sd0
        bn.weight.mul_(sd / sd0)
        bn.bias.copy_(beta)
        bn.running_mean.copy_(mu)
        bn.running_var.copy_(var)
