package qupath.ext.h2gnet.core;

import java.util.List;

import qupath.lib.objects.PathObject;

/**
 * What a segmentation added to an image.
 *
 * @param objects     the new tumour annotations (already in the hierarchy)
 * @param summary     the sidecar's figures
 * @param bySlidePath true when the sidecar read the slide file, false when QuPath sent the pixels
 * @param demoWeights true when untrained demo weights made the result
 * @param precision   the patch model's arithmetic that made it ("float32", "int8"; "" when the sidecar did not say)
 */
public record SegmentationReport(List<PathObject> objects, SegmentationSummary summary, boolean bySlidePath, boolean demoWeights,
		String precision) {

	public SegmentationReport {
		objects = List.copyOf(objects);
	}

	/**
	 * The completion notification's text: a warning first when demo weights made it, then the figures
	 * and the precision (so an int8 result is never taken for the reference's float32 one).
	 */
	public String describe() {
		String figures = summary.describe() + (precision.isEmpty() ? "" : "\nPatch model: " + precision + ".");
		return demoWeights ? "DEMO WEIGHTS - not a diagnosis (untrained models; install the published ones: h2g models pull).\n" + figures
				: figures;
	}
}
