// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.objects.classes;

import java.util.Objects;

public final class PathClass {

	private final String name;

	private PathClass(String name) {
		this.name = name;
	}

	public static PathClass fromString(String string) {
		return new PathClass(Objects.requireNonNull(string));
	}

	public String getName() {
		return name;
	}

	@Override
	public String toString() {
		return name;
	}

	@Override
	public boolean equals(Object o) {
		return o instanceof PathClass other && other.name.equals(name);
	}

	@Override
	public int hashCode() {
		return name.hashCode();
	}
}
