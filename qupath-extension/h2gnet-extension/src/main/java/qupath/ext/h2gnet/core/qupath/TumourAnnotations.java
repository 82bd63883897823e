package qupath.ext.h2gnet.core.qupath;

import java.util.ArrayList;
import java.util.List;

import qupath.ext.h2gnet.core.geojson.TumourRegion;
import qupath.lib.objects.PathObject;
import qupath.lib.objects.PathObjects;
import qupath.lib.objects.classes.PathClass;
import qupath.lib.regions.ImagePlane;
import qupath.lib.roi.GeometryTools;
import qupath.lib.roi.interfaces.ROI;

/**
 * Turns regions into QuPath annotations: classified (PathClass "Tumor"), with the sidecar's provenance
 * in the object's metadata and the area in micrometres squared among its measurements.
 */
public final class TumourAnnotations {

	/**
	 * Measurement holding each region's area, the name the sidecar's GeoJSON uses. Recomputed as QuPath's
	 * own ROI area times QuPath's pixel size when known (a cropped view may clip a region, and QuPath's
	 * ROIs put vertices on a 0.01 px grid), so it agrees with what QuPath shows for the object.
	 */
	public static final String AREA_MEASUREMENT = "Area µm^2";
	/** Metadata key naming how the pixels reached the sidecar ("slide file" or "pixels from QuPath"). */
	public static final String SOURCE_METADATA = "h2gnet.source";

	private TumourAnnotations() {
	}

	/**
	 * @param pixelWidthMicrons  level-0 pixel width; NaN when unknown (no area measurement then)
	 * @param pixelHeightMicrons level-0 pixel height
	 * @param source             recorded under {@link #SOURCE_METADATA}; null to skip
	 */
	public static List<PathObject> create(List<TumourRegion> regions, double pixelWidthMicrons, double pixelHeightMicrons, String source) {
		List<PathObject> objects = new ArrayList<>(regions.size());
		for (TumourRegion region : regions) {
			ROI roi = GeometryTools.geometryToROI(region.geometry(), ImagePlane.getDefaultPlane());
			PathObject annotation = PathObjects.createAnnotationObject(roi, PathClass.fromString(region.classification()));
			annotation.getMetadata().putAll(region.metadata());
			if (source != null)
				annotation.getMetadata().put(SOURCE_METADATA, source);
			annotation.getMeasurements().putAll(region.measurements());
			if (Double.isFinite(pixelWidthMicrons) && Double.isFinite(pixelHeightMicrons) && pixelWidthMicrons > 0 && pixelHeightMicrons > 0)
				annotation.getMeasurements().put(AREA_MEASUREMENT, roi.getScaledArea(pixelWidthMicrons, pixelHeightMicrons));
			objects.add(annotation);
		}
		return objects;
	}
}
