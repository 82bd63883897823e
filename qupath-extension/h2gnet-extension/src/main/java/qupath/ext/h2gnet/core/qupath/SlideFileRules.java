package qupath.ext.h2gnet.core.qupath;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import qupath.ext.h2gnet.core.geojson.FrameOffset;

/**
 * Decides, from what an image server tells about itself, whether the sidecar can read the image by
 * path and in which frame. Pure functions of strings, maps and paths ({@link SlideFileLocator} asks
 * the server).
 * <p>
 * By path only when the pixels the sidecar reads are exactly QuPath's: QuPath's OpenSlide server
 * (type "OpenSlide", possibly cropped to the scanned area), or Bio-Formats on a single-image vendor
 * format whose frame is OpenSlide's. Wrapped servers (rotated, transformed, sparse...) report other
 * types and get pixels; a cropped wrapper is unwrapped by {@link SlideFileLocator}.
 */
public final class SlideFileRules {

	/**
	 * Vendor formats whose first Bio-Formats series is the full-resolution slide OpenSlide reads, in the
	 * same frame. Not the formats for which OpenSlide reports bounds (MIRAX, Leica SCN, Ventana BIF,
	 * Hamamatsu VMS/VMU): there Bio-Formats' frame and OpenSlide's may differ, so their pixels are sent.
	 */
	private static final Set<String> OPENSLIDE_VENDOR_EXTENSIONS = Set.of("svs", "svslide", "ndpi");

	private SlideFileRules() {
	}

	/** The local slide file the sidecar may read instead of receiving pixels, if any. */
	public static Optional<Path> slideFile(String serverType, Collection<URI> uris) {
		if (uris == null || uris.size() != 1)
			return Optional.empty();
		URI uri = uris.iterator().next();
		if (uri == null || !"file".equalsIgnoreCase(uri.getScheme()))
			return Optional.empty();
		Path path;
		try {
			path = Path.of(uri);
		} catch (RuntimeException e) {
			return Optional.empty();
		}
		if (!Files.exists(path))
			return Optional.empty();
		if ("OpenSlide".equals(serverType))
			return Optional.of(path);
		if ("Bio-Formats".equals(serverType) && OPENSLIDE_VENDOR_EXTENSIONS.contains(extension(path)))
			return Optional.of(path);
		return Optional.empty();
	}

	/**
	 * Where QuPath's OpenSlide server puts its origin in the file, from OpenSlide's properties and the size
	 * QuPath shows: the whole level 0 (no offset), or the {@code openslide.bounds-*} rectangle (QuPath crops
	 * to it unless told {@code --no-crop}). Empty when the size matches neither: the frame is unknown.
	 */
	public static Optional<FrameOffset> openSlideOffset(Map<String, String> properties, int width, int height) {
		OptionalLong fileWidth = integer(properties, "openslide.level[0].width");
		OptionalLong fileHeight = integer(properties, "openslide.level[0].height");
		if (fileWidth.isPresent() && fileHeight.isPresent() && fileWidth.getAsLong() == width && fileHeight.getAsLong() == height)
			return Optional.of(FrameOffset.NONE);
		OptionalLong x = integer(properties, "openslide.bounds-x"), y = integer(properties, "openslide.bounds-y");
		OptionalLong w = integer(properties, "openslide.bounds-width"), h = integer(properties, "openslide.bounds-height");
		if (x.isPresent() && y.isPresent() && w.isPresent() && h.isPresent() && w.getAsLong() == width && h.getAsLong() == height)
			return Optional.of(new FrameOffset(x.getAsLong(), y.getAsLong()));
		return Optional.empty();
	}

	private static OptionalLong integer(Map<String, String> properties, String key) {
		String v = properties.get(key);
		if (v == null)
			return OptionalLong.empty();
		try {
			return OptionalLong.of(Long.parseLong(v.strip()));
		} catch (NumberFormatException e) {
			return OptionalLong.empty();
		}
	}

	static String extension(Path path) {
		String name = path.getFileName().toString();
		int dot = name.lastIndexOf('.');
		return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
	}
}
