// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.objects.hierarchy.events;

import java.util.Set;

import qupath.lib.objects.PathObject;

public class PathObjectSelectionModel {

	private PathObjectSelectionModel() {
	}

	public synchronized Set<PathObject> getSelectedObjects() {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
