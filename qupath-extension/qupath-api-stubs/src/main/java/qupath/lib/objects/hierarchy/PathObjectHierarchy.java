// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.objects.hierarchy;

import java.util.Collection;

import qupath.lib.objects.PathObject;
import qupath.lib.objects.hierarchy.events.PathObjectSelectionModel;

public final class PathObjectHierarchy {

	private PathObjectHierarchy() {
	}

	public PathObjectSelectionModel getSelectionModel() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public synchronized boolean addObjects(Collection<? extends PathObject> pathObjects) {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
