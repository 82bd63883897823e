package qupath.ext.h2gnet.core;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.locationtech.jts.geom.Envelope;
import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.geom.Polygonal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.client.SegmentListener;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.ext.h2gnet.core.geojson.GeoJsonGeometry;
import qupath.ext.h2gnet.core.geojson.TumourFeatureReader;
import qupath.ext.h2gnet.core.geojson.TumourRegion;
import qupath.ext.h2gnet.core.pixels.PixelSource;
import qupath.ext.h2gnet.core.sidecar.SidecarConnection;
import qupath.ext.h2gnet.grpc.v1.ImageDescription;
import qupath.ext.h2gnet.grpc.v1.PixelSegmentStart;
import qupath.ext.h2gnet.grpc.v1.SegmentOptions;
import qupath.ext.h2gnet.grpc.v1.SegmentRequest;
import qupath.ext.h2gnet.grpc.v1.SegmentResult;

/**
 * Runs one job on a sidecar, GUI- and hierarchy-free: picks how the pixels get there, sends the
 * request, waits (cancellable by interrupting the thread), and turns the result into regions in
 * QuPath's image coordinates.
 */
public final class SegmentationRunner {

	private static final Logger logger = LoggerFactory.getLogger(SegmentationRunner.class);

	/** Path refusals after which sending the pixels instead can still work. */
	private static final Set<Reason> PATH_REFUSALS = EnumSet.of(Reason.NOT_FOUND, Reason.PERMISSION_DENIED, Reason.INVALID_INPUT);

	private final SidecarConnection connection;
	private final SegmentationSettings settings;
	private final SegmentListener listener;

	public SegmentationRunner(SidecarConnection connection, SegmentationSettings settings, SegmentListener listener) {
		this.connection = connection;
		this.settings = settings;
		this.listener = listener == null ? SegmentListener.NONE : listener;
	}

	/**
	 * @param input the image
	 * @param roi   region of interest in image coordinates, or null for the whole image
	 */
	public SegmentationOutcome run(ImageInput input, Geometry roi) throws SidecarException {
		if (roi != null && (roi.isEmpty() || !(roi instanceof Polygonal || roi.getDimension() == 2)))
			throw new SidecarException(Reason.INVALID_INPUT, "The region to segment inside has no area (select area annotations).");
		try {
			return switch (settings.sourceMode()) {
				case PIXELS -> byPixels(input, roi);
				case SLIDE_FILE -> {
					if (!input.hasSlideFile())
						throw new SidecarException(Reason.INVALID_INPUT,
								"'" + input.pixels().name() + "' is not a local slide file the sidecar can read; use source mode PIXELS or AUTO.");
					yield byPath(input, roi);
				}
				case AUTO -> {
					if (!input.hasSlideFile())
						yield byPixels(input, roi);
					try {
						yield byPath(input, roi);
					} catch (SidecarException e) {
						if (!PATH_REFUSALS.contains(e.reason()))
							throw e;
						logger.info("The sidecar could not read {} itself ({}); sending the pixels instead", input.slideFile(), e.getMessage());
						listener.onMessage("The sidecar cannot read the file itself; QuPath sends the pixels instead");
						yield byPixels(input, roi);
					}
				}
			};
		} catch (SidecarException e) {
			connection.jobFailed(e);
			throw e;
		}
	}

	private SegmentationOutcome byPath(ImageInput input, Geometry roi) throws SidecarException {
		checkInterrupted();
		SidecarClient client = connection.client();
		FrameOffset offset = input.fileOffset();
		SegmentRequest request = SegmentRequest.newBuilder()
				.setSlidePath(input.slideFile().toAbsolutePath().toString())
				.setModelSet(settings.modelSet())
				.setPrecision(settings.precision().wireName())
				.setOptions(options(input.pixels(), roi == null ? null : offset.toFile(roi)))
				.build();
		listener.onMessage("The sidecar reads " + input.slideFile().getFileName() + " itself");
		SegmentResult result = client.segment(request, listener).await();
		List<TumourRegion> regions = TumourFeatureReader.read(result.getGeojson());
		if (!offset.isNone())
			regions = toImageFrame(regions, offset, input.pixels());
		return outcome(result, regions, true);
	}

	private SegmentationOutcome byPixels(ImageInput input, Geometry roi) throws SidecarException {
		checkInterrupted();
		SidecarClient client = connection.client();
		PixelSource pixels = input.pixels();
		ImageDescription.Builder image = ImageDescription.newBuilder()
				.setName(pixels.name())
				.setWidth(pixels.width())
				.setHeight(pixels.height())
				.setPixelSizeUm(validPixelSize(pixels.pixelSizeMicrons()));
		for (double d : usableDownsamples(pixels.downsamples()))
			image.addDownsamples(d);
		PixelSegmentStart start = PixelSegmentStart.newBuilder()
				.setImage(image)
				.setModelSet(settings.modelSet())
				.setPrecision(settings.precision().wireName())
				.setOptions(options(pixels, roi))
				.build();
		listener.onMessage("QuPath sends the pixels of " + pixels.name());
		SegmentResult result = client.segmentPixels(start, pixels, listener).await();
		return outcome(result, TumourFeatureReader.read(result.getGeojson()), false);
	}

	private static SegmentationOutcome outcome(SegmentResult result, List<TumourRegion> regions, boolean bySlidePath) {
		String geojson = result.getGeojson();
		String precision = TumourFeatureReader.precision(geojson);
		logger.info("H2G-Net result: {} region(s), {} patch model", regions.size(), precision.isEmpty() ? "unstated" : precision);
		return new SegmentationOutcome(regions, SegmentationSummary.of(result.getSummary()), geojson, bySlidePath,
				TumourFeatureReader.demoWeights(geojson), precision);
	}

	private SegmentOptions options(PixelSource pixels, Geometry roi) {
		double mpp = settings.pixelSizeMicrons() > 0 ? settings.pixelSizeMicrons() : validPixelSize(pixels.pixelSizeMicrons());
		SegmentOptions.Builder options = SegmentOptions.newBuilder()
				.setMpp(mpp)
				.setTissueThreshold(settings.tissueThreshold())
				.setSmoothingUm(settings.smoothingMicrons())
				.setBatchSize(settings.batchSize())
				.setLivePatches(settings.livePatches())
				.setReference(settings.reference().wireName());
		if (roi != null)
			options.setRoiGeojson(GeoJsonGeometry.write(roi).toString());
		return options.build();
	}

	/** The sidecar wants 1 first, then strictly increasing values; servers may report near-duplicates. */
	static double[] usableDownsamples(double[] downsamples) {
		TreeSet<Double> sorted = new java.util.TreeSet<>();
		sorted.add(1.0);
		if (downsamples != null) {
			for (double d : downsamples) {
				if (Double.isFinite(d) && d > 1.0 + 1e-6 && sorted.stream().noneMatch(x -> Math.abs(x - d) < 1e-6))
					sorted.add(d);
			}
		}
		return sorted.stream().mapToDouble(Double::doubleValue).toArray();
	}

	private static double validPixelSize(double um) {
		return Double.isFinite(um) && um > 0 ? um : 0;
	}

	private static void checkInterrupted() throws SidecarException {
		if (Thread.currentThread().isInterrupted())
			throw new SidecarException(Reason.CANCELLED, "The segmentation was cancelled.");
	}

	/** Moves file-frame regions into QuPath's (cropped) frame and drops what lies outside it. */
	private static List<TumourRegion> toImageFrame(List<TumourRegion> regions, FrameOffset offset, PixelSource pixels) {
		Geometry bounds = GeoJsonGeometry.factory().toGeometry(new Envelope(0, pixels.width(), 0, pixels.height()));
		List<TumourRegion> moved = new ArrayList<>();
		for (TumourRegion r : regions) {
			Geometry g = offset.toImage(r.geometry());
			if (!bounds.contains(g))
				g = g.intersection(bounds);
			if (!g.isEmpty() && g.getArea() > 0)
				moved.add(r.withGeometry(g));
		}
		return moved;
	}
}
