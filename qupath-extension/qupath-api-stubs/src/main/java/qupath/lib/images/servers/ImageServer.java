// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.images.servers;

import java.io.IOException;
import java.net.URI;
import java.util.Collection;

import qupath.lib.regions.RegionRequest;

public interface ImageServer<T> extends AutoCloseable {

	public String getPath();

	public Collection<URI> getURIs();

	public double[] getPreferredDownsamples();

	public int getWidth();

	public int getHeight();

	public boolean isRGB();

	public default PixelCalibration getPixelCalibration() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public default T readRegion(RegionRequest request) throws IOException {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public String getServerType();
}
