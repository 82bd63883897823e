package qupath.ext.h2gnet.core;

import java.util.Map;

import qupath.ext.h2gnet.grpc.v1.SegmentSummary;

/** The sidecar's figures for a finished job. */
public record SegmentationSummary(long patchesTotal, long patchesInferred, double tumourAreaMm2, double tissueAreaMm2,
		double tumourShareOfTissue, int polygonCount, double totalSeconds, Map<String, Double> stageSeconds) {

	static SegmentationSummary of(SegmentSummary s) {
		return new SegmentationSummary(s.getPatchesTotal(), s.getPatchesInferred(), s.getTumourAreaMm2(), s.getTissueAreaMm2(),
				s.getTumourShareOfTissue(), s.getPolygonCount(), s.getTotalSeconds(), Map.copyOf(s.getStageSecondsMap()));
	}

	/** One line for notifications. */
	public String describe() {
		return String.format("%d tumour region(s), %.2f mm² tumour (%.1f%% of %.2f mm² tissue), %d of %d patches inferred, %.1f s",
				polygonCount, tumourAreaMm2, 100 * tumourShareOfTissue, tissueAreaMm2, patchesInferred, patchesTotal, totalSeconds);
	}
}
