// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.gui.panes;

import org.controlsfx.control.PropertySheet;

public class PreferencePane {

	public PropertySheet getPropertySheet() {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
