// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.fx.prefs.controlsfx;

import java.util.Collection;

import javafx.beans.property.Property;
import org.controlsfx.control.PropertySheet;

public class PropertyItemBuilder<T> {

	public PropertyItemBuilder(Property<T> prop, final Class<? extends T> cls) {
	}

	public PropertyItemBuilder<T> name(String name) {
		return this;
	}

	public PropertyItemBuilder<T> description(String description) {
		return this;
	}

	public PropertyItemBuilder<T> category(String category) {
		return this;
	}

	public PropertyItemBuilder<T> choices(Collection<T> choices) {
		return this;
	}

	public PropertySheet.Item build() {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
