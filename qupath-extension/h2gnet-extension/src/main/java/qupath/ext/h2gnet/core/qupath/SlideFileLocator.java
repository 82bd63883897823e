package qupath.ext.h2gnet.core.qupath;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.lib.images.servers.CroppedImageServer;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.images.servers.TransformingImageServer;
import qupath.lib.regions.ImageRegion;

/**
 * Finds the slide file behind a QuPath image server and where QuPath's origin lies in it, from what the
 * server itself knows: QuPath's OpenSlide server crops to OpenSlide's {@code openslide.bounds-*} (its
 * properties say so; {@code getPath()} never does), and a cropped-server wrapper knows its crop region.
 * When the frame cannot be established the image is not read by path (its pixels are sent instead),
 * so a result is never shifted by a guess.
 */
public final class SlideFileLocator {

	private static final Logger logger = LoggerFactory.getLogger(SlideFileLocator.class);

	/** A slide file the sidecar can read, and QuPath's origin in its level-0 pixels. */
	public record SlideFile(Path path, FrameOffset offset) {
	}

	private SlideFileLocator() {
	}

	public static Optional<SlideFile> locate(ImageServer<?> server) {
		if (server instanceof CroppedImageServer cropped) {
			ImageRegion crop = cropped.getCropRegion();
			if (crop.getZ() != 0 || crop.getT() != 0)
				return Optional.empty();
			return wrappedServer(cropped).flatMap(SlideFileLocator::locate).map(inner ->
					new SlideFile(inner.path(), new FrameOffset(inner.offset().x() + crop.getX(), inner.offset().y() + crop.getY())));
		}
		Optional<Path> file = SlideFileRules.slideFile(server.getServerType(), server.getURIs());
		if (file.isEmpty())
			return Optional.empty();
		if (!"OpenSlide".equals(server.getServerType()))
			return Optional.of(new SlideFile(file.get(), FrameOffset.NONE));
		Optional<Map<String, String>> properties = openSlideProperties(server);
		if (properties.isEmpty())
			return Optional.empty();
		return SlideFileRules.openSlideOffset(properties.get(), server.getWidth(), server.getHeight())
				.map(offset -> new SlideFile(file.get(), offset));
	}

	/**
	 * The server a cropped server shows part of. QuPath keeps {@code getWrappedServer()} protected and
	 * offers no other way to it (its builder only rebuilds a new one), hence the reflective call; if a
	 * later QuPath closes it, the cropped image is sent as pixels, which is slower but still right.
	 */
	private static Optional<ImageServer<?>> wrappedServer(CroppedImageServer cropped) {
		try {
			Method m = TransformingImageServer.class.getDeclaredMethod("getWrappedServer");
			m.setAccessible(true);
			return Optional.ofNullable((ImageServer<?>) m.invoke(cropped));
		} catch (ReflectiveOperationException | RuntimeException e) {
			logger.debug("Cannot unwrap {} ({}); QuPath will send its pixels", cropped.getPath(), e.toString());
			return Optional.empty();
		}
	}

	/**
	 * OpenSlide's properties, from {@code OpenslideImageServer.dumpMetadata()} (public, JSON). Called by
	 * name: the OpenSlide server lives in QuPath's OpenSlide extension, which this extension does not
	 * compile against.
	 */
	static Optional<Map<String, String>> openSlideProperties(ImageServer<?> server) {
		try {
			Method dump = server.getClass().getMethod("dumpMetadata");
			Object json = dump.invoke(server);
			if (!(json instanceof String text))
				return Optional.empty();
			Map<String, String> out = new LinkedHashMap<>();
			JsonObject object = JsonParser.parseString(text).getAsJsonObject();
			for (Map.Entry<String, JsonElement> e : object.entrySet()) {
				if (e.getValue().isJsonPrimitive())
					out.put(e.getKey(), e.getValue().getAsString());
			}
			return Optional.of(out);
		} catch (ReflectiveOperationException | RuntimeException e) {
			logger.warn("Cannot read OpenSlide's properties of {} ({}); QuPath will send its pixels", server.getPath(), e.toString());
			return Optional.empty();
		}
	}
}
