package qupath.ext.h2gnet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

import org.locationtech.jts.geom.Geometry;

import qupath.lib.images.ImageData;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.images.servers.ImageServerMetadata;
import qupath.lib.images.servers.ImageServerProvider;
import qupath.lib.objects.PathObject;

/** Real QuPath image servers on the shared slide, and geometry checks that allow for QuPath's 0.01 px grid. */
public final class QuPathImages {

	private QuPathImages() {
	}

	/**
	 * The slide through QuPath's own OpenSlide server (the OpenSlide extension's builder), on the system's
	 * libopenslide: told where to look first, QuPath's loader skips its SciJava-only packaged natives.
	 */
	public static ImageServer<BufferedImage> openSlide(Path slide) throws Exception {
		ImageServer<BufferedImage> server = server(slide, "OpenslideServerBuilder");
		assertEquals("OpenSlide", server.getServerType());
		return server;
	}

	/** An image through one of QuPath's server builders, by class name ("OpenslideServerBuilder", "ImageJServerBuilder"). */
	public static ImageServer<BufferedImage> server(Path image, String builder) throws Exception {
		if (builder.startsWith("Openslide"))
			Class.forName("qupath.lib.images.servers.openslide.jna.OpenSlideLoader").getMethod("tryToLoadQuietly", String[].class)
					.invoke(null, (Object) new String[] { System.getProperty("h2gnet.openslideDir", "/usr/lib/x86_64-linux-gnu") });
		ImageServer<BufferedImage> server = ImageServerProvider.buildServer(image.toUri().toString(), BufferedImage.class, "--classname", builder);
		assertNotNull(server, builder + " cannot open " + image);
		return server;
	}

	/** The PNG of the slide through QuPath's ImageJ server, with the pixel size set as a user would in QuPath. */
	public static ImageData<BufferedImage> imageJ(Path png, double mpp) throws Exception {
		ImageServer<BufferedImage> server = server(png, "ImageJServerBuilder");
		ImageData<BufferedImage> data = new ImageData<>(server);
		data.updateServerMetadata(new ImageServerMetadata.Builder(server.getMetadata()).pixelSizeMicrons(mpp, mpp).build());
		return data;
	}

	/**
	 * How far two outlines of one region may differ in area: QuPath stores ROI vertices as floats on a
	 * 0.01 px grid, so each vertex may move by up to 0.005 px per axis and the area by about perimeter x
	 * 0.005 px (allowed: twice that).
	 */
	public static double gridTolerance(Geometry g) {
		return 0.01 * g.getLength() + 1e-6;
	}

	public static List<Geometry> geometries(List<? extends PathObject> objects) {
		return objects.stream().map(o -> o.getROI().getGeometry()).toList();
	}

	/** Same regions (sorted by position), each within the grid's tolerance of its counterpart. */
	public static void assertSameRegions(List<Geometry> expected, List<Geometry> actual) {
		assertEquals(expected.size(), actual.size(), "number of regions");
		Comparator<Geometry> order = Comparator.<Geometry>comparingDouble(g -> Math.round(g.getEnvelopeInternal().getMinX()))
				.thenComparingDouble(g -> Math.round(g.getEnvelopeInternal().getMinY()))
				.thenComparingDouble(Geometry::getArea);
		List<Geometry> a = expected.stream().sorted(order).toList();
		List<Geometry> b = actual.stream().sorted(order).toList();
		for (int i = 0; i < a.size(); i++) {
			double diff = a.get(i).symDifference(b.get(i)).getArea();
			assertTrue(diff <= gridTolerance(a.get(i)), "region " + i + " differs by " + diff + " px²: " + a.get(i).getEnvelopeInternal()
					+ " vs " + b.get(i).getEnvelopeInternal());
		}
	}
}
