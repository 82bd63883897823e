package qupath.ext.h2gnet.core.geojson;

import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.geom.util.AffineTransformation;

/**
 * Where QuPath's image origin lies in the slide file's level-0 pixels. QuPath may show a slide
 * cropped to its scanned area (OpenSlide's {@code openslide.bounds-x/-y}), while the sidecar, reading
 * the file itself, answers in file coordinates: results are moved by {@link #toImage}, a region of
 * interest sent by path by {@link #toFile}.
 */
public record FrameOffset(double x, double y) {

	public static final FrameOffset NONE = new FrameOffset(0, 0);

	public boolean isNone() {
		return x == 0 && y == 0;
	}

	/** File coordinates -> QuPath image coordinates. */
	public Geometry toImage(Geometry fileGeometry) {
		return isNone() ? fileGeometry : AffineTransformation.translationInstance(-x, -y).transform(fileGeometry);
	}

	/** QuPath image coordinates -> file coordinates. */
	public Geometry toFile(Geometry imageGeometry) {
		return isNone() ? imageGeometry : AffineTransformation.translationInstance(x, y).transform(imageGeometry);
	}
}
