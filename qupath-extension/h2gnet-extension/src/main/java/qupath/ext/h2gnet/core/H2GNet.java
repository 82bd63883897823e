package qupath.ext.h2gnet.core;

import java.awt.image.BufferedImage;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.operation.union.UnaryUnionOp;

import qupath.ext.h2gnet.core.client.SegmentListener;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.ext.h2gnet.core.qupath.ImageServerPixelSource;
import qupath.ext.h2gnet.core.qupath.SlideFileRules;
import qupath.ext.h2gnet.core.qupath.TumourAnnotations;
import qupath.ext.h2gnet.core.sidecar.SharedConnections;
import qupath.ext.h2gnet.core.sidecar.SidecarConnection;
import qupath.ext.h2gnet.core.sidecar.SidecarSettings;
import qupath.lib.images.ImageData;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.images.servers.PixelCalibration;
import qupath.lib.objects.PathObject;

/**
 * The one entry point for the menu and for scripts. Works on the {@code ImageData} it is given, so
 * "Run for project" works:
 *
 * <pre>{@code
 * import qupath.ext.h2gnet.core.H2GNet
 * H2GNet.builder().tissueThreshold(0.5).build().segment(getCurrentImageData())
 * H2GNet.builder().build().segmentInside(getCurrentImageData(), getSelectedObjects())
 * }</pre>
 *
 * Without {@code address(...)} or {@code launchCommand(...)} the sidecar configured in QuPath's
 * preferences is used. Interrupting the calling thread cancels the job.
 */
public final class H2GNet {

	private final SegmentationSettings settings;
	private final SidecarSettings sidecar; // null = preferences
	private final SidecarConnection connection; // explicit connection (tests, advanced scripts), or null
	private final SegmentListener listener;

	private H2GNet(Builder b) {
		this.settings = new SegmentationSettings(b.modelSet, b.tissueThreshold, b.smoothingMicrons, b.batchSize,
				b.pixelSizeMicrons, b.livePatches, b.sourceMode);
		this.sidecar = b.sidecar;
		this.connection = b.connection;
		this.listener = b.listener;
	}

	public static Builder builder() {
		return new Builder();
	}

	public SegmentationSettings settings() {
		return settings;
	}

	/** Segments the whole image and adds the tumour annotations to its hierarchy. @return the new annotations */
	public List<PathObject> segment(ImageData<BufferedImage> imageData) throws SidecarException {
		return segmentAndReport(imageData, null).objects();
	}

	/**
	 * Segments only inside the given annotations (objects without an area ROI are ignored) and adds the
	 * tumour annotations to the hierarchy, where QuPath files them under the annotation they lie in.
	 */
	public List<PathObject> segmentInside(ImageData<BufferedImage> imageData, Collection<? extends PathObject> annotations) throws SidecarException {
		return segmentAndReport(imageData, annotations).objects();
	}

	/**
	 * Like {@link #segment} / {@link #segmentInside} (null annotations = whole image), also returning the
	 * sidecar's summary, for callers that report it (the menu command).
	 */
	public SegmentationReport segmentAndReport(ImageData<BufferedImage> imageData, Collection<? extends PathObject> annotations) throws SidecarException {
		Geometry roi = null;
		if (annotations != null) {
			roi = unionOfAreas(annotations);
			if (roi == null)
				throw new SidecarException(Reason.INVALID_INPUT, "No annotation with an area was given to segment inside.");
		}
		ImageServer<BufferedImage> server = requireRgb(imageData.getServer());
		SegmentationOutcome outcome = run(inputFor(server), roi);
		List<PathObject> objects = toObjects(server, outcome);
		if (!objects.isEmpty())
			imageData.getHierarchy().addObjects(objects);
		return new SegmentationReport(objects, outcome.summary(), outcome.bySlidePath());
	}

	/** Runs a job and returns the annotations without adding them anywhere. @param roi null for the whole image */
	public List<PathObject> detect(ImageData<BufferedImage> imageData, Geometry roi) throws SidecarException {
		ImageServer<BufferedImage> server = requireRgb(imageData.getServer());
		return toObjects(server, run(inputFor(server), roi));
	}

	/** Runs a job on any {@link ImageInput} (what tests and non-QuPath callers use). */
	public SegmentationOutcome run(ImageInput input, Geometry roi) throws SidecarException {
		return new SegmentationRunner(connection(), settings, listener).run(input, roi);
	}

	private List<PathObject> toObjects(ImageServer<BufferedImage> server, SegmentationOutcome outcome) {
		PixelCalibration cal = server.getPixelCalibration();
		double pw = settings.pixelSizeMicrons() > 0 ? settings.pixelSizeMicrons() : cal.hasPixelSizeMicrons() ? cal.getPixelWidthMicrons() : Double.NaN;
		double ph = settings.pixelSizeMicrons() > 0 ? settings.pixelSizeMicrons() : cal.hasPixelSizeMicrons() ? cal.getPixelHeightMicrons() : Double.NaN;
		return TumourAnnotations.create(outcome.regions(), pw, ph, outcome.bySlidePath() ? "slide file" : "pixels from QuPath");
	}

	/** H2G-Net's networks were trained on RGB H&E brightfield; anything else would give nonsense. */
	private static ImageServer<BufferedImage> requireRgb(ImageServer<BufferedImage> server) throws SidecarException {
		if (!server.isRGB())
			throw new SidecarException(Reason.INVALID_INPUT,
					"H2G-Net segments RGB (H&E brightfield) images; this image is not RGB (" + server.getServerType() + ").");
		return server;
	}

	/** How this image reaches the sidecar: by path when it is a plain local slide file, else as pixels. */
	public static ImageInput inputFor(ImageServer<BufferedImage> server) {
		String type = server.getServerType();
		var uris = server.getURIs();
		Path file = SlideFileRules.slideFile(type, uris).orElse(null);
		FrameOffset offset = file == null ? FrameOffset.NONE : SlideFileRules.frameOffset(type, server.getPath());
		return new ImageInput(new ImageServerPixelSource(server, imageName(uris, server.getPath())), file, offset);
	}

	private static String imageName(Collection<URI> uris, String fallback) {
		if (uris != null && uris.size() == 1) {
			String p = uris.iterator().next().getPath();
			if (p != null && !p.isEmpty())
				return p.substring(p.lastIndexOf('/') + 1);
		}
		return fallback;
	}

	private static Geometry unionOfAreas(Collection<? extends PathObject> objects) {
		List<Geometry> areas = new ArrayList<>();
		for (PathObject o : objects) {
			if (o.getROI() == null)
				continue;
			Geometry g = o.getROI().getGeometry();
			if (g != null && !g.isEmpty() && g.getDimension() == 2)
				areas.add(g);
		}
		return areas.isEmpty() ? null : UnaryUnionOp.union(areas);
	}

	private SidecarConnection connection() throws SidecarException {
		if (connection != null)
			return connection;
		return sidecar != null ? SharedConnections.forSettings(sidecar) : SharedConnections.forDefaultSettings();
	}

	/**
	 * The Groovy line that repeats this configuration, for QuPath's workflow history ("Create script",
	 * "Run for project"). @param insideSelection true for {@code segmentInside} on the selected annotations
	 */
	public String toScript(boolean insideSelection) {
		StringBuilder sb = new StringBuilder("qupath.ext.h2gnet.core.H2GNet.builder()");
		if (!settings.modelSet().isEmpty())
			sb.append(".modelSet(").append(quote(settings.modelSet())).append(')');
		sb.append(".tissueThreshold(").append(num(settings.tissueThreshold())).append(')');
		sb.append(".smoothingMicrons(").append(num(settings.smoothingMicrons())).append(')');
		if (settings.batchSize() > 0)
			sb.append(".batchSize(").append(settings.batchSize()).append(')');
		if (settings.pixelSizeMicrons() > 0)
			sb.append(".pixelSizeMicrons(").append(num(settings.pixelSizeMicrons())).append(')');
		if (settings.sourceMode() != SourceMode.AUTO)
			sb.append(".source(qupath.ext.h2gnet.core.SourceMode.").append(settings.sourceMode()).append(')');
		sb.append(".build()");
		sb.append(insideSelection
				? ".segmentInside(getCurrentImageData(), getSelectedObjects().findAll { it.isAnnotation() })"
				: ".segment(getCurrentImageData())");
		return sb.toString();
	}

	private static String num(double v) {
		return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.format(Locale.ROOT, "%.1f", v) : Double.toString(v);
	}

	private static String quote(String s) {
		return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
	}

	/** Collects parameters; every setter validates when {@link #build()} runs. */
	public static final class Builder {
		private String modelSet = "";
		private double tissueThreshold = 0.5;
		private double smoothingMicrons = 0;
		private int batchSize = 0;
		private double pixelSizeMicrons = 0;
		private boolean livePatches = false;
		private SourceMode sourceMode = SourceMode.AUTO;
		private SidecarSettings sidecar;
		private SidecarConnection connection;
		private SegmentListener listener = SegmentListener.NONE;

		private Builder() {
		}

		/** Installed model set on the sidecar; default: the sidecar's default set. */
		public Builder modelSet(String name) {
			this.modelSet = name;
			return this;
		}

		/** Share of a patch that must be tissue (0, 1]; the reference uses 0.5. */
		public Builder tissueThreshold(double threshold) {
			this.tissueThreshold = threshold;
			return this;
		}

		/** Mask smoothing radius in um (erode r, dilate 2r, erode r); 0 = none. */
		public Builder smoothingMicrons(double radius) {
			this.smoothingMicrons = radius;
			return this;
		}

		public Builder batchSize(int patches) {
			this.batchSize = patches;
			return this;
		}

		/** Level-0 pixel size to use instead of the image's (images without one need it). */
		public Builder pixelSizeMicrons(double um) {
			this.pixelSizeMicrons = um;
			return this;
		}

		public Builder source(SourceMode mode) {
			this.sourceMode = mode;
			return this;
		}

		/** Receive per-patch scores while the job runs (the GUI's live overlay). */
		public Builder livePatches(boolean live) {
			this.livePatches = live;
			return this;
		}

		public Builder listener(SegmentListener listener) {
			this.listener = listener == null ? SegmentListener.NONE : listener;
			return this;
		}

		/** Use a running sidecar at host:port instead of the preferences' one. */
		public Builder address(String hostPort) {
			this.sidecar = new SidecarSettings(hostPort, "", "", "", 0);
			return this;
		}

		/** Use a running sidecar that requires a token (--token-file). */
		public Builder address(String hostPort, String tokenFile) {
			this.sidecar = new SidecarSettings(hostPort, "", tokenFile, "", 0);
			return this;
		}

		/** Start (once per JVM) and use a sidecar with this command, e.g. {@code h2g serve --models /data/models}. */
		public Builder launchCommand(String command) {
			this.sidecar = new SidecarSettings("", command, "", "", 0);
			return this;
		}

		public Builder sidecar(SidecarSettings settings) {
			this.sidecar = settings;
			return this;
		}

		/** Use this connection (the caller owns it). */
		public Builder connection(SidecarConnection connection) {
			this.connection = connection;
			return this;
		}

		public H2GNet build() {
			return new H2GNet(this);
		}
	}
}
