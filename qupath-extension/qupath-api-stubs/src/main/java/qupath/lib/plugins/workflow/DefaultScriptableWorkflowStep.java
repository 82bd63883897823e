// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.plugins.workflow;

public class DefaultScriptableWorkflowStep implements ScriptableWorkflowStep {

	private final String name;
	private final String script;

	public DefaultScriptableWorkflowStep(final String name, final String script) {
		this.name = name;
		this.script = script;
	}

	@Override
	public String getName() {
		return name;
	}

	@Override
	public String getScript() {
		return script;
	}
}
