// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.gui.prefs;

import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/** Stand-in: properties hold their default and are not persisted. */
public class PathPrefs {

	public static BooleanProperty createPersistentPreference(final String name, final boolean defaultValue) {
		return new SimpleBooleanProperty(null, name, defaultValue);
	}

	public static IntegerProperty createPersistentPreference(final String name, final int defaultValue) {
		return new SimpleIntegerProperty(null, name, defaultValue);
	}

	public static DoubleProperty createPersistentPreference(final String name, final double defaultValue) {
		return new SimpleDoubleProperty(null, name, defaultValue);
	}

	public static StringProperty createPersistentPreference(final String name, final String defaultValue) {
		return new SimpleStringProperty(null, name, defaultValue);
	}
}
