package qupath.ext.h2gnet.core.qupath;

import java.awt.image.BufferedImage;
import java.io.IOException;

import qupath.ext.h2gnet.core.pixels.PixelSource;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.images.servers.PixelCalibration;
import qupath.lib.regions.RegionRequest;

/**
 * Serves pixels of any image QuPath can open (OpenSlide, Bio-Formats, OMERO, ...) through QuPath's own
 * reader. Deliberately thin: everything else lives in GUI-free, tested code.
 */
public final class ImageServerPixelSource implements PixelSource {

	private final ImageServer<BufferedImage> server;
	private final String name;

	public ImageServerPixelSource(ImageServer<BufferedImage> server, String name) {
		this.server = server;
		this.name = name;
	}

	@Override
	public String name() {
		return name;
	}

	@Override
	public int width() {
		return server.getWidth();
	}

	@Override
	public int height() {
		return server.getHeight();
	}

	@Override
	public double pixelSizeMicrons() {
		PixelCalibration cal = server.getPixelCalibration();
		return cal.hasPixelSizeMicrons() ? cal.getAveragedPixelSizeMicrons() : Double.NaN;
	}

	@Override
	public double[] downsamples() {
		return server.getPreferredDownsamples().clone();
	}

	@Override
	public BufferedImage readRegion(double downsample, int x, int y, int width, int height) throws IOException {
		return server.readRegion(RegionRequest.createInstance(server.getPath(), downsample, x, y, width, height));
	}
}
