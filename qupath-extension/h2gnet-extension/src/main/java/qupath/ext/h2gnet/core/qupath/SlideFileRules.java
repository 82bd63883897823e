package qupath.ext.h2gnet.core.qupath;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import qupath.ext.h2gnet.core.geojson.FrameOffset;

/**
 * Decides, from what an image server tells about itself, whether the sidecar can read the image by
 * path and in which frame. Pure functions of strings and paths, so they are tested without QuPath.
 * <p>
 * By path only when the pixels the sidecar reads are exactly QuPath's: QuPath's OpenSlide server
 * (type "OpenSlide", possibly cropped to the scanned area), or Bio-Formats on a single-image vendor
 * format OpenSlide also reads. Wrapped servers (rotated, transformed, cropped, sparse...) report other
 * types and get pixels.
 */
public final class SlideFileRules {

	/** Vendor formats whose first Bio-Formats series is the full-resolution slide OpenSlide reads. */
	private static final Set<String> OPENSLIDE_VENDOR_EXTENSIONS = Set.of("svs", "ndpi", "vms", "vmu", "scn", "mrxs", "svslide", "bif");

	/** QuPath's OpenSlide server appends the crop to its path: "file:/x.mrxs [x=1,y=2,w=3,h=4]". */
	private static final Pattern OPENSLIDE_CROP = Pattern.compile("\\[x=(\\d+),y=(\\d+),w=(\\d+),h=(\\d+)\\]\\s*$");

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

	/** Where QuPath's origin lies in the file, from an OpenSlide server's path. */
	public static FrameOffset frameOffset(String serverType, String serverPath) {
		if (!"OpenSlide".equals(serverType) || serverPath == null)
			return FrameOffset.NONE;
		Matcher m = OPENSLIDE_CROP.matcher(serverPath);
		return m.find() ? new FrameOffset(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))) : FrameOffset.NONE;
	}

	static String extension(Path path) {
		String name = path.getFileName().toString();
		int dot = name.lastIndexOf('.');
		return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
	}
}
