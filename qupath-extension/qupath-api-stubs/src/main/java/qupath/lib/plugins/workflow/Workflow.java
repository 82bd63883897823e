// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.plugins.workflow;

public class Workflow {

	public synchronized void addStep(final WorkflowStep step) {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
