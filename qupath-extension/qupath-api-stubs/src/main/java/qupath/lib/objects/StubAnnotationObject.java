// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.objects;

import qupath.lib.objects.classes.PathClass;
import qupath.lib.roi.interfaces.ROI;

/** Stand-in only (QuPath has its own annotation class): what PathObjects.createAnnotationObject returns here. */
final class StubAnnotationObject extends PathObject {

	private final ROI roi;
	private final PathClass pathClass;

	StubAnnotationObject(ROI roi, PathClass pathClass) {
		this.roi = roi;
		this.pathClass = pathClass;
	}

	@Override
	public boolean isAnnotation() {
		return true;
	}

	@Override
	public ROI getROI() {
		return roi;
	}

	@Override
	public PathClass getPathClass() {
		return pathClass;
	}
}
