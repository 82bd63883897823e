package qupath.ext.h2gnet.core.pixels;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Arrays;

/**
 * Answers the sidecar's region requests: exactly {@code width x height} packed 8-bit RGB pixels at the
 * requested downsample, white outside the image (the same convention as the sidecar's OpenSlide reader,
 * so both ways of segmenting see the same pixels). The {@link PixelSource} is only asked for the part
 * that lies inside the image, because not every image server copes with regions beyond its edges.
 */
public final class RgbRegionReader {

	private static final byte WHITE = (byte) 255;

	private final PixelSource source;

	public RgbRegionReader(PixelSource source) {
		this.source = source;
	}

	/**
	 * @param downsample the request's downsample
	 * @param x          level-0 left (may be outside the image)
	 * @param y          level-0 top
	 * @param width      output width in pixels (at the downsample)
	 * @param height     output height in pixels
	 */
	public byte[] read(double downsample, long x, long y, int width, int height) throws IOException {
		if (width <= 0 || height <= 0 || !(downsample > 0))
			throw new IOException("Invalid region request: " + width + " x " + height + " at downsample " + downsample);
		byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)];
		Arrays.fill(rgb, WHITE);

		long x1 = x + Math.round(width * downsample);
		long y1 = y + Math.round(height * downsample);
		long cx0 = Math.max(0, x), cy0 = Math.max(0, y);
		long cx1 = Math.min(source.width(), x1), cy1 = Math.min(source.height(), y1);
		if (cx1 <= cx0 || cy1 <= cy0)
			return rgb;

		BufferedImage img = source.readRegion(downsample, (int) cx0, (int) cy0, (int) (cx1 - cx0), (int) (cy1 - cy0));
		if (img == null)
			throw new IOException("The image server returned no pixels for " + describe(downsample, x, y, width, height));
		int offX = (int) Math.round((cx0 - x) / downsample);
		int offY = (int) Math.round((cy0 - y) / downsample);
		int w = Math.min(img.getWidth(), width - offX);
		int h = Math.min(img.getHeight(), height - offY);
		if (w <= 0 || h <= 0)
			return rgb;
		int[] row = new int[w];
		for (int r = 0; r < h; r++) {
			img.getRGB(0, r, w, 1, row, 0, w);
			int pos = ((offY + r) * width + offX) * 3;
			for (int c = 0; c < w; c++) {
				int argb = row[c];
				if ((argb >>> 24) == 0) {
					pos += 3; // fully transparent: outside the scanned area, stays white
					continue;
				}
				rgb[pos++] = (byte) (argb >> 16);
				rgb[pos++] = (byte) (argb >> 8);
				rgb[pos++] = (byte) argb;
			}
		}
		return rgb;
	}

	static String describe(double downsample, long x, long y, int width, int height) {
		return String.format("region x=%d y=%d %dx%d at downsample %s", x, y, width, height, downsample);
	}
}
