// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.images.servers;

public class PixelCalibration {

	private PixelCalibration() {
	}

	public boolean hasPixelSizeMicrons() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public double getAveragedPixelSizeMicrons() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public double getPixelWidthMicrons() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public double getPixelHeightMicrons() {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
