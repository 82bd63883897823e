"""Runs FastPathology's H2G-Net pipeline in FAST itself (pyFAST 4.18.0) on a slide, built from FAST's
process objects as breast_tumour_segmentation.fpl wires them, and writes what the tests compare.

    fast_oracle.py SLIDE MODELDIR OUTDIR [--magnification M] [--engine ONNXRuntime|OpenVINO]
                   [--mask-threshold 0.5] [--rounds N] [--timings FILE]

MODELDIR holds the two ONNX files of an H2G-Net model set (scripts/make_test_models.py names). Writes
to OUTDIR: tissue.npy (uint8 0/1, the tissue mask on FAST's last level), inferred.npy (uint8 rows x
cols, 1 = the patch was inferred), heatmap.npy (float32 rows x cols, tumour channel, 0 where skipped),
refined.npy (float32 1024 x 1024 x 2, the refinement network's softmax), mask.npy (uint8 1024 x 1024,
1 = tumour by FAST's TensorToSegmentation), mask.png (0/255) and info.json (levels, magnification,
patch frame data, runtimes in ms per stage from FAST's getRuntime, wall seconds).

Why objects and not the .fpl: a text pipeline cannot set the magnification of a generic TIFF, which
FAST 4.18 needs (getMagnification() throws "magnification unknown"). Colour thresholding is asked for
explicitly because TissueSegmentation.create() defaults to a neural network in 4.18. The magnification
of a slide without objective power comes from its pixel size by FAST's own table (0.25 um -> 40x).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import fast

MAGNIFICATION_BY_SPACING_MM = [  # FAST's ImagePyramid::getMagnification table
    ((0.00015, 0.00035), 40), ((0.0004, 0.0006), 20), ((0.00075, 0.00125), 10),
    ((0.00175, 0.00225), 5), ((0.0075, 0.0125), 1)]
PATCH_FILE = "patchwise_mobilenet_network_breast_cancer.onnx"
REFINE_FILE = "refinement_network_breast_cancer.onnx"


def magnification_of(wsi, override):
    if override:
        return override
    try:
        return wsi.getMagnification()
    except Exception:
        mm = wsi.getSpacing()[0]
        for (lo, hi), mag in MAGNIFICATION_BY_SPACING_MM:
            if lo < mm < hi or (mag == 40 and lo < mm <= hi):
                return mag
        raise SystemExit(f"fast_oracle: no magnification for spacing {mm} mm; give --magnification")


def runtime_ms(po, name=None):
    try:
        r = po.getRuntime(name) if name else po.getRuntime()
        return {"sum": r.getSum(), "avg": r.getAverage(), "n": r.getSamples()}
    except Exception:
        return None


def run_once(a):
    t0 = time.perf_counter()
    wsi = fast.WholeSlideImageImporter.create(a.slide).runAndGetOutputData()
    mag = magnification_of(wsi, a.magnification)
    wsi.setMagnification(mag)
    levels = [(wsi.getLevelWidth(i), wsi.getLevelHeight(i)) for i in range(wsi.getNrOfLevels())]

    tissue = fast.TissueSegmentation.create(True)  # colour thresholding (4.18's default is a network)
    tissue.connect(wsi)
    tissue.enableRuntimeMeasurements()
    tissue_mask = tissue.runAndGetOutputData()
    generator = fast.PatchGenerator.create(256, 256, magnification=10, maskThreshold=a.mask_threshold)
    generator.connect(0, wsi)
    generator.connect(1, tissue_mask)
    network = fast.NeuralNetwork.create(os.path.join(a.models, PATCH_FILE), scaleFactor=1 / 255,
                                        inferenceEngine=a.engine)
    network.connect(generator)
    stitcher = fast.PatchStitcher.create()
    stitcher.connect(network)
    for po in (generator, network, stitcher):
        po.enableRuntimeMeasurements()
    t1 = time.perf_counter()
    heat = None
    # Nothing else may hang on the stitcher's port while it streams: FAST's channels are bounded,
    # and an unread consumer blocks the whole stream. The refinement is wired after it.
    for heat in fast.DataStream(stitcher):
        pass
    t2 = time.perf_counter()
    stitched = np.asarray(heat).astype(np.float32)  # rows x cols x 2, zero where a patch was skipped
    heat_image = fast.TensorToImage.create([1])
    heat_image.connect(heat)
    lowres = fast.ImagePyramidLevelExtractor.create(-1)  # the last level FAST lists
    lowres.connect(wsi)
    normalise = fast.IntensityNormalization.create()  # (I - min) / (max - min), all channels
    normalise.connect(lowres)
    refinement = fast.NeuralNetwork.create(os.path.join(a.models, REFINE_FILE), inferenceEngine=a.engine)
    refinement.connect(0, normalise)
    refinement.connect(1, heat_image)
    refinement.enableRuntimeMeasurements()
    refined = refinement.runAndGetOutputData()
    segmentation = fast.TensorToSegmentation.create()
    segmentation.connect(refined)
    mask = segmentation.runAndGetOutputData()
    t3 = time.perf_counter()
    return {
        "magnification": mag, "levels": levels,
        "inferred": stitched.sum(axis=2) > 0.5,  # the softmax of an inferred patch sums to 1
        "tissue": np.asarray(tissue_mask)[..., 0].copy(),
        "heatmap": stitched[..., 1].copy(),
        "refined": np.asarray(refined).reshape(1024, 1024, 2).astype(np.float32),
        "mask": np.asarray(mask)[..., 0].astype(np.uint8).copy(),
        "seconds": {"tissue": t1 - t0, "patches": t2 - t1, "refinement": t3 - t2, "total": t3 - t0},
        "runtimes_ms": {"tissue": runtime_ms(tissue), "create patch": runtime_ms(generator, "create patch"),
                        "patch network": runtime_ms(network), "stitcher": runtime_ms(stitcher),
                        "refinement": runtime_ms(refinement)},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("slide")
    ap.add_argument("models")
    ap.add_argument("out")
    ap.add_argument("--magnification", type=float, default=0)
    ap.add_argument("--engine", default="ONNXRuntime")
    ap.add_argument("--mask-threshold", type=float, default=0.5)
    a = ap.parse_args()
    fast.Reporter.setGlobalReportMethod(fast.Reporter.NONE)
    os.makedirs(a.out, exist_ok=True)
    r = run_once(a)
    inferred = r["inferred"].astype(np.uint8)
    np.save(os.path.join(a.out, "tissue.npy"), r["tissue"])
    np.save(os.path.join(a.out, "inferred.npy"), inferred)
    np.save(os.path.join(a.out, "heatmap.npy"), r["heatmap"])
    np.save(os.path.join(a.out, "refined.npy"), r["refined"])
    np.save(os.path.join(a.out, "mask.npy"), r["mask"])
    fast.ImageFileExporter.create(os.path.join(a.out, "mask.png")).connect(
        fast.Image.createFromArray(np.ascontiguousarray(r["mask"] * 255))).run()
    info = {k: r[k] for k in ("magnification", "levels", "seconds", "runtimes_ms")}
    info["inferred"] = int(inferred.sum())
    info["grid"] = list(inferred.shape)
    with open(os.path.join(a.out, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    sys.stdout.flush()
    os._exit(0)  # FAST 4.18 can crash in its static destructors at interpreter exit


if __name__ == "__main__":
    main()
