// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.regions;

public class ImagePlane {

	private static final ImagePlane DEFAULT = new ImagePlane();

	private ImagePlane() {
	}

	public static ImagePlane getDefaultPlane() {
		return DEFAULT;
	}
}
