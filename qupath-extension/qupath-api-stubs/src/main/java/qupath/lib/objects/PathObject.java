// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.objects;

import java.util.LinkedHashMap;
import java.util.Map;

import qupath.lib.objects.classes.PathClass;
import qupath.lib.roi.interfaces.ROI;

public abstract class PathObject {

	private final Map<String, Number> measurements = new LinkedHashMap<>();
	private final Map<String, String> metadata = new LinkedHashMap<>();

	PathObject() {
	}

	public Map<String, Number> getMeasurements() {
		return measurements;
	}

	public Map<String, String> getMetadata() {
		return metadata;
	}

	public boolean isAnnotation() {
		return false;
	}

	public abstract ROI getROI();

	public abstract PathClass getPathClass();
}
