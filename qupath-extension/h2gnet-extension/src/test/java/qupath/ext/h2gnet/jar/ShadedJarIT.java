package qupath.ext.h2gnet.jar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import qupath.ext.h2gnet.testing.TestEnvironment;

/**
 * The packaged jar, as QuPath would load it: in its own class loader, with only what QuPath provides
 * (its API, gson, JTS, slf4j) beside it and no unrelocated gRPC anywhere. Launches the real sidecar and
 * segments the slide by path, which exercises the relocated gRPC, netty, protobuf and service files.
 * Runs after packaging (maven-failsafe, phase integration-test).
 */
@Timeout(180)
class ShadedJarIT {

	@Test
	void theShadedJarTalksToTheSidecarOnItsOwn() throws Exception {
		Path jar = Path.of(System.getProperty("h2gnet.extensionJar"));
		assertTrue(Files.isRegularFile(jar), "extension jar: " + jar);
		List<URL> urls = new ArrayList<>();
		urls.add(jar.toUri().toURL());
		for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
			String name = Path.of(entry).getFileName().toString();
			// What QuPath provides: its API (qupath-core.jar... or qupath-core-0.6.0.jar), gson, JTS, slf4j, logback.
			boolean qupathApi = name.startsWith("qupath-core") || name.startsWith("qupath-gui-fx");
			if (qupathApi || name.startsWith("gson-") || name.startsWith("jts-core-") || name.startsWith("slf4j-") || name.startsWith("logback-"))
				urls.add(Path.of(entry).toUri().toURL());
		}
		try (URLClassLoader loader = new URLClassLoader("qupath-extension", urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
			assertThrows(ClassNotFoundException.class, () -> loader.loadClass("io.grpc.ManagedChannel"), "gRPC must be relocated");
			assertTrue(loader.loadClass("qupath.ext.h2gnet.shaded.io.grpc.ManagedChannel") != null);

			String command = String.join(" ", TestEnvironment.serveCommand(TestEnvironment.models("tiny")).stream()
					.map(a -> "'" + a + "'").toList());
			Class<?> h2gnet = loader.loadClass("qupath.ext.h2gnet.core.H2GNet");
			Class<?> builderClass = loader.loadClass("qupath.ext.h2gnet.core.H2GNet$Builder");
			Class<?> sourceMode = loader.loadClass("qupath.ext.h2gnet.core.SourceMode");
			Class<?> pixelSource = loader.loadClass("qupath.ext.h2gnet.core.pixels.PixelSource");
			Class<?> frameOffset = loader.loadClass("qupath.ext.h2gnet.core.geojson.FrameOffset");
			Class<?> imageInput = loader.loadClass("qupath.ext.h2gnet.core.ImageInput");
			Class<?> geometry = loader.loadClass("org.locationtech.jts.geom.Geometry");

			Object builder = h2gnet.getMethod("builder").invoke(null);
			builderClass.getMethod("launchCommand", String.class).invoke(builder, command);
			builderClass.getMethod("source", sourceMode).invoke(builder, sourceMode.getField("SLIDE_FILE").get(null));
			Object segmenter = builderClass.getMethod("build").invoke(builder);

			Object pixels = loader.loadClass("qupath.ext.h2gnet.core.pixels.BufferedImagePixelSource")
					.getConstructor(String.class, BufferedImage.class, double.class)
					.newInstance("slide", new BufferedImage(2220, 2967, BufferedImage.TYPE_INT_RGB), TestEnvironment.SLIDE_MPP);
			Object input = imageInput.getConstructor(pixelSource, Path.class, frameOffset)
					.newInstance(pixels, TestEnvironment.slide(), frameOffset.getField("NONE").get(null));
			Object outcome = h2gnet.getMethod("run", imageInput, geometry).invoke(segmenter, input, null);
			List<?> regions = (List<?>) outcome.getClass().getMethod("regions").invoke(outcome);
			assertFalse(regions.isEmpty(), "the slide was segmented through the shaded jar");
			assertEquals(Boolean.TRUE, outcome.getClass().getMethod("bySlidePath").invoke(outcome));
		}
	}
}
