// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.roi;

import org.locationtech.jts.geom.Geometry;

import qupath.lib.regions.ImagePlane;
import qupath.lib.roi.interfaces.ROI;

public class GeometryTools {

	/** Stand-in: wraps the geometry unchanged, so tests can inspect what the extension built. */
	public static ROI geometryToROI(Geometry geometry, ImagePlane plane) {
		Geometry copy = geometry.copy();
		return () -> copy;
	}
}
