package qupath.ext.h2gnet.core.pixels;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * An RGB image the extension can serve to the sidecar region by region. Implemented over QuPath's
 * {@code ImageServer} (see {@code ImageServerPixelSource}) and, for tests and scripts, over a plain
 * {@link BufferedImage}. Kept this small so the QuPath adapter stays thin.
 */
public interface PixelSource {

	/** A label for logs and the result's metadata (e.g. the image name in QuPath). */
	String name();

	/** Level-0 width in pixels. */
	int width();

	/** Level-0 height in pixels. */
	int height();

	/** Level-0 pixel size in micrometres, or NaN when unknown. */
	double pixelSizeMicrons();

	/** Downsamples that are cheap to read, ascending, starting with 1. */
	double[] downsamples();

	/**
	 * Reads a region lying inside the image.
	 *
	 * @param downsample one of {@link #downsamples()}
	 * @param x          level-0 left
	 * @param y          level-0 top
	 * @param width      level-0 width
	 * @param height     level-0 height
	 * @return an image of about {@code width / downsample} x {@code height / downsample} pixels
	 */
	BufferedImage readRegion(double downsample, int x, int y, int width, int height) throws IOException;
}
