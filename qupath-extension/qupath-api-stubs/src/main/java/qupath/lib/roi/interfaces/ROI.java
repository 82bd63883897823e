// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.roi.interfaces;

import org.locationtech.jts.geom.Geometry;

public interface ROI {

	Geometry getGeometry();
}
