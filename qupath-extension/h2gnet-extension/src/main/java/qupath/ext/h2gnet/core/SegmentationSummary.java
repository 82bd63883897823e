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
	 * The figures for notifications. The tumour share of tissue can pass 100 %: as in FastPathology, the
	 * refinement network outlines tumour over the whole image at 1024 x 1024, not only inside the tissue
	 * mask (which is patch-level). Shown as it is, with that reason, rather than clipped.
	 */
	public String describe() {
		String head = String.format(Locale.ROOT, "%d tumour region(s), %.2f mm² tumour in %.2f mm² tissue (%.1f %%)",
				polygonCount, tumourAreaMm2, tissueAreaMm2, 100 * tumourShareOfTissue);
		String why = tumourShareOfTissue > 1
				? ": more than the tissue because the refinement network's outline is not limited to the tissue mask, as in FastPathology"
				: "";
		return String.format(Locale.ROOT, "%s%s; %d of %d patches inferred, %.1f s.", head, why, patchesInferred, patchesTotal, totalSeconds);
	}
}
