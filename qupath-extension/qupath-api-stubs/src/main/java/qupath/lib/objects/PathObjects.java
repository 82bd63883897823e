// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.objects;

import qupath.lib.objects.classes.PathClass;
import qupath.lib.roi.interfaces.ROI;

public class PathObjects {

	public static PathObject createAnnotationObject(final ROI roi, final PathClass pathClass) {
		return new StubAnnotationObject(roi, pathClass);
	}
}
