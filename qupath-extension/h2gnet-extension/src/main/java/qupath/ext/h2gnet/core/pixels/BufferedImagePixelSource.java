package qupath.ext.h2gnet.core.pixels;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * A whole image held in memory, served at downsample 1 only. For tests, and for scripts that want to
 * segment an image they built themselves.
 */
public final class BufferedImagePixelSource implements PixelSource {

	private final String name;
	private final BufferedImage image;
	private final double pixelSizeMicrons;

	public BufferedImagePixelSource(String name, BufferedImage image, double pixelSizeMicrons) {
		this.name = Objects.requireNonNull(name);
		this.image = Objects.requireNonNull(image);
		this.pixelSizeMicrons = pixelSizeMicrons;
	}

	@Override
	public String name() {
		return name;
	}

	@Override
	public int width() {
		return image.getWidth();
	}

	@Override
	public int height() {
		return image.getHeight();
	}

	@Override
	public double pixelSizeMicrons() {
		return pixelSizeMicrons;
	}

	@Override
	public double[] downsamples() {
		return new double[] { 1.0 };
	}

	@Override
	public BufferedImage readRegion(double downsample, int x, int y, int width, int height) {
		if (downsample != 1.0)
			throw new IllegalArgumentException("Only downsample 1 is served, not " + downsample);
		return image.getSubimage(x, y, width, height);
	}
}
