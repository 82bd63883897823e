"""Augmentations: the same geometry on image, heatmap and target; colour shifts within their ranges;
reproducible from the sample's RNG."""

import numpy as np

from h2g_train.augment import augment_patch, augment_refinement, flip_rotate, hsv_and_brightness, stain_jitter


def test_flip_and_rotation_are_shared_and_lossless():
    a = np.arange(5 * 6 * 3).reshape(5, 6, 3)
    b = a[..., 0].copy()
    seen = set()
    for i in range(40):
        ra, rb = flip_rotate([a, b], np.random.default_rng(i))
        assert np.array_equal(ra[..., 0], rb)
        assert sorted(ra.ravel()) == sorted(a.ravel())
        seen.add(ra.tobytes())
    assert len(seen) == 8  # the dihedral group of the rectangle's two orientations


def test_colour_changes_stay_in_range_and_repeat_with_the_seed():
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    a = augment_patch(patch, np.random.default_rng(5))
    assert a.dtype == np.uint8 and a.shape == patch.shape
    assert np.array_equal(a, augment_patch(patch, np.random.default_rng(5)))
    assert not np.array_equal(a, augment_patch(patch, np.random.default_rng(6)))
    grey = np.full((8, 8, 3), 200, np.uint8)  # no hue or saturation: only the brightness factor acts
    for i in range(20):
        v = hsv_and_brightness(grey, np.random.default_rng(i))[0, 0, 0]
        assert 0.8 * 200 - 1 <= v <= min(255, 1.2 * 200) + 1


def test_stain_jitter_is_small_and_the_refinement_target_stays_binary():
    rng = np.random.default_rng(1)
    img = rng.uniform(50, 250, (32, 32, 3)).astype(np.float32)
    out = stain_jitter(img, np.random.default_rng(2))
    assert 0 < np.abs(out - img).mean() < 25
    heat = rng.random((32, 32)).astype(np.float32)
    target = (heat > 0.5).astype(np.uint8)
    i2, h2, t2 = augment_refinement(img, heat, target, np.random.default_rng(3))
    assert set(np.unique(t2)) <= {0, 1} and np.array_equal(t2, (h2 > 0.5).astype(np.uint8))
    assert i2.dtype == np.float32 and i2.min() >= 0 and i2.max() <= 255
