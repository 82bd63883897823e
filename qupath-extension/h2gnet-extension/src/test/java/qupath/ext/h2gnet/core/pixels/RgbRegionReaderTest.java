package qupath.ext.h2gnet.core.pixels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.IOException;

import org.junit.jupiter.api.Test;

class RgbRegionReaderTest {

	private static BufferedImage image() {
		BufferedImage img = new BufferedImage(4, 3, BufferedImage.TYPE_INT_ARGB);
		for (int y = 0; y < 3; y++)
			for (int x = 0; x < 4; x++)
				img.setRGB(x, y, 0xFF000000 | (x * 10) << 16 | (y * 10) << 8 | 7);
		img.setRGB(3, 2, 0x00123456); // transparent: outside the scanned area
		return img;
	}

	private static int[] pixel(byte[] rgb, int width, int x, int y) {
		int i = (y * width + x) * 3;
		return new int[] { rgb[i] & 0xFF, rgb[i + 1] & 0xFF, rgb[i + 2] & 0xFF };
	}

	@Test
	void packsRgbAndFillsOutsideWithWhite() throws IOException {
		var reader = new RgbRegionReader(new BufferedImagePixelSource("t", image(), 0.5));
		byte[] rgb = reader.read(1, -1, -1, 6, 5); // one pixel of margin around the image
		assertEquals(6 * 5 * 3, rgb.length);
		assertEquals(255, pixel(rgb, 6, 0, 0)[0], "outside is white");
		assertEquals(255, pixel(rgb, 6, 5, 4)[2]);
		int[] p = pixel(rgb, 6, 1 + 2, 1 + 1); // image (2, 1)
		assertEquals(20, p[0]);
		assertEquals(10, p[1]);
		assertEquals(7, p[2]);
		int[] transparent = pixel(rgb, 6, 1 + 3, 1 + 2);
		assertEquals(255, transparent[0], "transparent pixels become white");
		assertEquals(255, transparent[1]);
	}

	@Test
	void aRegionFullyOutsideIsWhiteWithoutReading() throws IOException {
		PixelSource failing = new PixelSource() {
			public String name() { return "never read"; }
			public int width() { return 4; }
			public int height() { return 3; }
			public double pixelSizeMicrons() { return Double.NaN; }
			public double[] downsamples() { return new double[] { 1 }; }
			public BufferedImage readRegion(double d, int x, int y, int w, int h) { throw new AssertionError("must not read"); }
		};
		byte[] rgb = new RgbRegionReader(failing).read(1, 100, 100, 2, 2);
		for (byte b : rgb)
			assertEquals(255, b & 0xFF);
	}

	@Test
	void refusesNonsense() {
		var reader = new RgbRegionReader(new BufferedImagePixelSource("t", image(), 0.5));
		assertThrows(IOException.class, () -> reader.read(1, 0, 0, 0, 5));
		assertThrows(IOException.class, () -> reader.read(0, 0, 0, 1, 1));
	}
}
