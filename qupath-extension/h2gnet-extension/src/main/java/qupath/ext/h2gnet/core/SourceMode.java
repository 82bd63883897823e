package qupath.ext.h2gnet.core;

/** How the sidecar gets the pixels. */
public enum SourceMode {
	/** By path when the image is a local slide file OpenSlide can read, else pixels; pixels also when the path is refused. */
	AUTO,
	/** The sidecar reads the slide file itself ({@code Segment}); fails if there is none. */
	SLIDE_FILE,
	/** The extension reads regions with QuPath and sends them ({@code SegmentPixels}). */
	PIXELS
}
