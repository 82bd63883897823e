"""The two published architectures (H2GNET.md; scripts/make_test_models.py builds the same graphs in
ONNX), in PyTorch, NCHW inside. `width` scales every layer's channels (Keras' alpha for MobileNetV2),
so tests can train a small model of the same shape and contract; 1.0 is the published size.

Patch: Keras MobileNetV2 (no top: 3x3 conv stride 2, 17 inverted residuals, 1x1 conv to 1280; ReLU6;
batch norm eps 1e-3; stride-2 convs padded bottom/right only, as Keras' "same" on even sizes), global
average pooling, Dense(100, relu), Dropout(0.5), Dense(2); returns logits (softmax in the export).
Refinement: the 8-level U-Net (two 3x3 conv + BN + ReLU per level, 2x2 max pool; filters 8, 16, 32, 64,
128, 128, 256, 256; bottleneck 512 at 4x4; nearest x2 upsampling, skip concatenated first as Keras'
Concatenate([skip, up]); decoder filters 256, 256, 128, 128, 64, 32, 16, 8 with spatial dropout 0.1
while training; 1x1 conv to 2). Batch renormalisation, which the authors turned on, has no PyTorch
counterpart; plain batch norm is used."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-3  # Keras' BatchNormalization epsilon (MobileNetV2 and the U-Net alike)
MOBILENET_V2 = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]
UNET_ENCODER = [8, 16, 32, 64, 128, 128, 256, 256]
UNET_BOTTLENECK = 512
UNET_DECODER = [256, 256, 128, 128, 64, 32, 16, 8]
DENSE = 100
TUMOUR_PRIOR = 0.1


def make_divisible(v: float, divisor=8) -> int:
    """Keras applications' _make_divisible."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, groups=1, act=True, bias=False):
        pad = (k - 1) // 2 if stride == 1 else 0
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=bias), nn.BatchNorm2d(cout, eps=BN_EPS)
        )
        self.stride, self.k, self.act = stride, k, act

    def forward(self, x):
        if self.stride == 2 and self.k > 1:
            x = F.pad(x, (0, 1, 0, 1))  # Keras "same" with stride 2 on an even size
        x = super().forward(x)
        return F.relu6(x) if self.act else x


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        layers = [ConvBN(cin, hidden, 1)] if expansion != 1 else []
        layers += [ConvBN(hidden, hidden, 3, stride, groups=hidden), ConvBN(hidden, cout, 1, act=False)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class PatchClassifier(nn.Module):
    def __init__(self, width: float = 1.0, dropout: float = 0.5):
        super().__init__()
        self.width = width
        cin = make_divisible(32 * width)
        layers = [ConvBN(3, cin, 3, 2)]
        for t, c, n, s in MOBILENET_V2:
            cout = make_divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        self.features_out = make_divisible(1280 * width) if width > 1.0 else 1280
        layers.append(ConvBN(cin, self.features_out, 1))
        self.backbone = nn.Sequential(*layers)
        self.dense = nn.Linear(self.features_out, DENSE)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(DENSE, 2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Global-average-pooled backbone output (what the clusters are fitted on)."""
        return self.backbone(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) RGB in 0..1 -> logits (N, 2)."""
        return self.classifier(self.dropout(F.relu(self.dense(self.features(x)))))


def _block(cin, cout, dropout):
    layers = []
    for i in range(2):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1), nn.BatchNorm2d(cout, eps=BN_EPS), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout2d(dropout))
    return nn.Sequential(*layers)


class RefinementUNet(nn.Module):
    def __init__(self, width: float = 1.0, decoder_dropout: float = 0.1):
        super().__init__()
        self.width = width
        scale = lambda f: max(1, round(f * width))  # noqa: E731
        self.encoder = nn.ModuleList()
        cin = 4
        for f in UNET_ENCODER:
            self.encoder.append(_block(cin, scale(f), None))
            cin = scale(f)
        self.bottleneck = _block(cin, scale(UNET_BOTTLENECK), None)
        cin = scale(UNET_BOTTLENECK)
        self.decoder = nn.ModuleList()
        for f, skip in zip(UNET_DECODER, reversed(UNET_ENCODER)):
            self.decoder.append(_block(scale(skip) + cin, scale(f), decoder_dropout))
            cin = scale(f)
        self.head = nn.Conv2d(cin, 2, 1)
        # Start every pixel at a tumour probability of TUMOUR_PRIOR rather than 1/2, so the Dice loss
        # first learns where tumour is instead of first undoing a half-tumour image (Keras' zero bias).
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor([0.0, math.log(TUMOUR_PRIOR / (1 - TUMOUR_PRIOR))]))

    @property
    def min_size(self) -> int:
        return 4 * 2 ** len(UNET_ENCODER)

    def forward(self, image: torch.Tensor, heatmap: torch.Tensor) -> torch.Tensor:
        """image (N, 3, S, S), heatmap (N, 1, S, S) -> logits (N, 2, S, S); S a multiple of 256."""
        x = torch.cat([image, heatmap], dim=1)
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for block, skip in zip(self.decoder, reversed(skips)):
            x = block(torch.cat([skip, F.interpolate(x, scale_factor=2.0, mode="nearest")], dim=1))
        return self.head(x)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
