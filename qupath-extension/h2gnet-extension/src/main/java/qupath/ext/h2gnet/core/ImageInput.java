package qupath.ext.h2gnet.core;

import java.nio.file.Path;
import java.util.Objects;

import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.ext.h2gnet.core.pixels.PixelSource;

/**
 * The image to segment, as the sidecar may receive it.
 *
 * @param pixels     QuPath's view of the image: size, pixel size, and pixels to send when not by path
 * @param slideFile  a local slide file OpenSlide can read, or null when there is none
 * @param fileOffset where QuPath's origin lies in the file (a cropped view); {@link FrameOffset#NONE} usually
 */
public record ImageInput(PixelSource pixels, Path slideFile, FrameOffset fileOffset) {

	public ImageInput {
		Objects.requireNonNull(pixels, "pixels");
		fileOffset = fileOffset == null ? FrameOffset.NONE : fileOffset;
	}

	public static ImageInput pixelsOnly(PixelSource pixels) {
		return new ImageInput(pixels, null, FrameOffset.NONE);
	}

	public boolean hasSlideFile() {
		return slideFile != null;
	}
}
