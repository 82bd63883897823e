package qupath.ext.h2gnet.core.geojson;

import java.util.Map;

import org.locationtech.jts.geom.Geometry;

/**
 * One region from the sidecar's result, before it becomes a QuPath object.
 *
 * @param geometry       polygon(s) in QuPath image pixels (level 0)
 * @param classification class name, "Tumor" for H2G-Net's output
 * @param metadata       provenance (model digests, parameters, versions) as flat string pairs
 * @param measurements   numbers carried by the feature (e.g. its area in um^2)
 */
public record TumourRegion(Geometry geometry, String classification, Map<String, String> metadata, Map<String, Double> measurements) {

	public TumourRegion {
		metadata = Map.copyOf(metadata);
		measurements = Map.copyOf(measurements);
	}

	public TumourRegion withGeometry(Geometry g) {
		return new TumourRegion(g, classification, metadata, measurements);
	}
}
