// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.images;

import qupath.lib.images.servers.ImageServer;
import qupath.lib.objects.hierarchy.PathObjectHierarchy;
import qupath.lib.plugins.workflow.Workflow;

public class ImageData<T> {

	private ImageData() {
	}

	public Workflow getHistoryWorkflow() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public ImageServer<T> getServer() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public PathObjectHierarchy getHierarchy() {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
