// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.regions;

public class RegionRequest extends ImageRegion {

	private RegionRequest() {
	}

	public static RegionRequest createInstance(String path, double downsample, int x, int y, int width, int height) {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
