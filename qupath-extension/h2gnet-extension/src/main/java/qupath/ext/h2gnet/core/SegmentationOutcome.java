package qupath.ext.h2gnet.core;

import java.util.List;

import qupath.ext.h2gnet.core.geojson.TumourRegion;

/**
 * What a job produced, before anything touches a QuPath hierarchy.
 *
 * @param regions  tumour regions in QuPath image coordinates
 * @param summary  the sidecar's figures
 * @param geojson  the sidecar's GeoJSON as received (file coordinates when sent by path)
 * @param bySlidePath true when the sidecar read the slide file, false when pixels were sent
 * @param demoWeights true when untrained demo weights made it (the result's {@code h2gnet.demo_weights})
 * @param precision   the patch model's arithmetic that made it (the result's {@code h2gnet.precision}; "" if unsaid)
 */
public record SegmentationOutcome(List<TumourRegion> regions, SegmentationSummary summary, String geojson, boolean bySlidePath,
		boolean demoWeights, String precision) {

	public SegmentationOutcome {
		regions = List.copyOf(regions);
	}
}
