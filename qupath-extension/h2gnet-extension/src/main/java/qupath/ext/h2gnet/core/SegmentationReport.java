package qupath.ext.h2gnet.core;

import java.util.List;

import qupath.lib.objects.PathObject;

/**
 * What a segmentation added to an image.
 *
 * @param objects     the new tumour annotations (already in the hierarchy)
 * @param summary     the sidecar's figures
 * @param bySlidePath true when the sidecar read the slide file, false when QuPath sent the pixels
 */
public record SegmentationReport(List<PathObject> objects, SegmentationSummary summary, boolean bySlidePath) {

	public SegmentationReport {
		objects = List.copyOf(objects);
	}
}
