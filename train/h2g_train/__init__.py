"""h2g-train: trains H2G-Net on annotated whole-slide images (README, "Training")."""

__version__ = "0.1.0"
