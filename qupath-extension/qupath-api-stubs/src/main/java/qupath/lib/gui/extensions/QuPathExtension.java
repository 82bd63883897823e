// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.gui.extensions;

import qupath.lib.gui.QuPathGUI;

public interface QuPathExtension {

	public void installExtension(QuPathGUI qupath);

	public String getName();

	public String getDescription();
}
