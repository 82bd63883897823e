package qupath.ext.h2gnet.core;

import java.util.Locale;
import java.util.Map;

import qupath.ext.h2gnet.grpc.v1.SegmentSummary;

/** The sidecar's figures for a finished job. */
public record SegmentationSummary(long patchesTotal, long patchesInferred, double tumourAreaMm2, double tissueAreaMm2,
		double tumourShareOfTissue, int polygonCount, double totalSeconds, Map<String, Double> stageSeconds) {

	static SegmentationSummary of(SegmentSummary s) {
		return new SegmentationSummary(s.getPatchesTotal(), s.getPatchesInferred(), s.getTumourAreaMm2(), s.getTissueAreaMm2(),
				s.getTumourShareOfTissue(), s.getPolygonCount(), s.getTotalSeconds(), Map.copyOf(s.getStageSecondsMap()));
	}

	/**
	 * The figures for notifications, one fact per line (QuPath's notifications do not wrap). The tumour
	 * share of tissue can pass 100 %: as in FastPathology, the refinement network outlines tumour over the
	 * whole image at 1024 x 1024, not only inside the tissue mask (which is patch-level). Shown as it
	 * is, with that reason, rather than clipped.
	 */
	public String describe() {
		StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%d tumour region(s): %.2f mm² tumour, %.2f mm² tissue (%.0f %%).",
				polygonCount, tumourAreaMm2, tissueAreaMm2, 100 * tumourShareOfTissue));
		if (tumourShareOfTissue > 1)
			sb.append("\nMore tumour than tissue: the refinement network's outline is not limited to the tissue mask (as in FastPathology).");
		sb.append(String.format(Locale.ROOT, "\n%d of %d patches inferred, %.1f s.", patchesInferred, patchesTotal, totalSeconds));
		return sb.toString();
	}
}
