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
 */
public record SegmentationReport(List<PathObject> objects, SegmentationSummary summary, boolean bySlidePath, boolean demoWeights) {

	public SegmentationReport {
		objects = List.copyOf(objects);
	}

	/** The completion notification's text: a warning first when demo weights made it, then the figures. */
	public String describe() {
		String figures = summary.describe();
		return demoWeights ? "DEMO WEIGHTS - not a diagnosis (untrained models; install the published ones: h2g models pull).\n" + figures
				: figures;
	}
}
