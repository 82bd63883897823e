package qupath.ext.h2gnet.core;

/**
 * The parameters of one segmentation, as the builder collects them.
 *
 * @param modelSet         installed model set name; blank = the sidecar's default
 * @param tissueThreshold  share of a patch that must be tissue for it to be inferred, in (0, 1]; 0 = sidecar default (0.5)
 * @param smoothingMicrons mask smoothing radius in um (erode r, dilate 2r, erode r); 0 = none, as the reference
 * @param batchSize        patches per inference call; 0 = sidecar default
 * @param pixelSizeMicrons level-0 pixel size to use instead of the image's; 0 = the image's own
 * @param livePatches      ask for per-patch scores while the job runs (for a live overlay)
 * @param sourceMode       how the pixels reach the sidecar
 * @param precision        the patch model's arithmetic (null = float32)
 * @param reference        the rule set (null = FastPathology's, {@code fast})
 */
public record SegmentationSettings(String modelSet, double tissueThreshold, double smoothingMicrons, int batchSize,
		double pixelSizeMicrons, boolean livePatches, SourceMode sourceMode, Precision precision, RuleSet reference) {

	public SegmentationSettings {
		modelSet = modelSet == null ? "" : modelSet.strip();
		if (!(tissueThreshold >= 0 && tissueThreshold <= 1))
			throw new IllegalArgumentException("The tissue threshold must lie in (0, 1], not " + tissueThreshold);
		if (!(smoothingMicrons >= 0) || Double.isInfinite(smoothingMicrons))
			throw new IllegalArgumentException("Smoothing must be 0 or a positive number of micrometres, not " + smoothingMicrons);
		if (batchSize < 0)
			throw new IllegalArgumentException("The batch size must be positive (or 0 for the sidecar's default), not " + batchSize);
		if (!(pixelSizeMicrons >= 0) || Double.isInfinite(pixelSizeMicrons))
			throw new IllegalArgumentException("The pixel size must be a positive number of micrometres (or 0 for the image's own), not " + pixelSizeMicrons);
		if (sourceMode == null)
			sourceMode = SourceMode.AUTO;
		if (precision == null)
			precision = Precision.FLOAT32;
		if (reference == null)
			reference = RuleSet.FAST;
	}

	public static SegmentationSettings defaults() {
		return new SegmentationSettings("", 0.5, 0, 0, 0, false, SourceMode.AUTO, Precision.FLOAT32, RuleSet.FAST);
	}
}
