package qupath.ext.h2gnet.core;

import java.awt.image.BufferedImage;
import java.net.URI;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.operation.union.UnaryUnionOp;

import qupath.ext.h2gnet.core.client.SegmentListener;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.ext.h2gnet.core.geojson.RegionsByParent;
import qupath.ext.h2gnet.core.geojson.TumourRegion;
import qupath.ext.h2gnet.core.qupath.HierarchyPlacement;
import qupath.ext.h2gnet.core.qupath.ImageServerPixelSource;
import qupath.ext.h2gnet.core.qupath.SlideFileLocator;
import qupath.ext.h2gnet.core.qupath.TumourAnnotations;
import qupath.ext.h2gnet.core.sidecar.SharedConnections;
import qupath.ext.h2gnet.core.sidecar.SidecarConnection;
import qupath.ext.h2gnet.core.sidecar.SidecarSettings;
import qupath.lib.images.ImageData;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.images.servers.PixelCalibration;
import qupath.lib.objects.PathObject;
import qupath.lib.plugins.workflow.DefaultScriptableWorkflowStep;

/**
 * The one entry point for the menu and for scripts. Works on the {@code ImageData} it is given, so
 * "Run for project" works:
 *
 * <pre>{@code
 * import qupath.ext.h2gnet.core.H2GNet
 * H2GNet.builder().tissueThreshold(0.5).build().segment(getCurrentImageData())
 * H2GNet.builder().precision("int8").reference("fast-exact").build().segment(getCurrentImageData())
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
				b.pixelSizeMicrons, b.livePatches, b.sourceMode, Precision.parse(b.precision), RuleSet.parse(b.reference));
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

	/** Title of the workflow step each run records. */
	public static final String WORKFLOW_STEP = "H2G-Net tumour segmentation";

	/**
	 * Segments the whole image and adds the tumour annotations at the hierarchy's root.
	 * @return the new annotations
	 */
	public List<PathObject> segment(ImageData<BufferedImage> imageData) throws SidecarException {
		return segmentAndReport(imageData, null).objects();
	}

	/**
	 * Segments only inside the given annotations (objects without an area ROI are ignored) and adds each
	 * tumour annotation as a child of the annotation it lies in (a region crossing from one into another
	 * is cut along the border; where they overlap, the first given takes it).
	 * @return the new annotations
	 */
	public List<PathObject> segmentInside(ImageData<BufferedImage> imageData, Collection<? extends PathObject> annotations) throws SidecarException {
		return segmentAndReport(imageData, annotations).objects();
	}

	/**
	 * Like {@link #segment} / {@link #segmentInside} (null annotations = whole image), also returning the
	 * sidecar's summary, for callers that report it (the menu command). Records the run in the image's
	 * workflow, so "Create script" and "Run for project" repeat it.
	 */
	public SegmentationReport segmentAndReport(ImageData<BufferedImage> imageData, Collection<? extends PathObject> annotations) throws SidecarException {
		List<PathObject> parents = null;
		Geometry roi = null;
		if (annotations != null) {
			parents = annotations.stream().filter(o -> areaOf(o) != null).map(o -> (PathObject) o).toList();
			if (parents.isEmpty())
				throw new SidecarException(Reason.INVALID_INPUT, "No annotation with an area was given to segment inside.");
			roi = UnaryUnionOp.union(parents.stream().map(H2GNet::areaOf).toList());
		}
		ImageServer<BufferedImage> server = requireRgb(imageData.getServer());
		SegmentationOutcome outcome = run(inputFor(server), roi);
		List<PathObject> added = parents == null
				? HierarchyPlacement.addAtRoot(imageData.getHierarchy(), toObjects(server, outcome.regions(), outcome))
				: addBelowParents(imageData, server, outcome, parents);
		imageData.getHistoryWorkflow().addStep(new DefaultScriptableWorkflowStep(WORKFLOW_STEP, toScript(parents != null)));
		return new SegmentationReport(added, outcome.summary(), outcome.bySlidePath(), outcome.demoWeights(),
				outcome.precision());
	}

	private List<PathObject> addBelowParents(ImageData<BufferedImage> imageData, ImageServer<BufferedImage> server,
			SegmentationOutcome outcome, List<PathObject> parents) {
		List<List<TumourRegion>> pieces = RegionsByParent.split(outcome.regions(), parents.stream().map(H2GNet::areaOf).toList());
		Map<PathObject, List<PathObject>> children = new LinkedHashMap<>();
		for (int i = 0; i < parents.size(); i++)
			children.put(parents.get(i), toObjects(server, pieces.get(i), outcome));
		return HierarchyPlacement.addBelow(imageData.getHierarchy(), children);
	}

	/** Runs a job and returns the annotations without adding them anywhere. @param roi null for the whole image */
	public List<PathObject> detect(ImageData<BufferedImage> imageData, Geometry roi) throws SidecarException {
		ImageServer<BufferedImage> server = requireRgb(imageData.getServer());
		SegmentationOutcome outcome = run(inputFor(server), roi);
		return toObjects(server, outcome.regions(), outcome);
	}

	/** Runs a job on any {@link ImageInput} (what tests and non-QuPath callers use). */
	public SegmentationOutcome run(ImageInput input, Geometry roi) throws SidecarException {
		return new SegmentationRunner(connection(), settings, listener).run(input, roi);
	}

	private List<PathObject> toObjects(ImageServer<BufferedImage> server, List<TumourRegion> regions, SegmentationOutcome outcome) {
		PixelCalibration cal = server.getPixelCalibration();
		double pw = settings.pixelSizeMicrons() > 0 ? settings.pixelSizeMicrons() : cal.hasPixelSizeMicrons() ? cal.getPixelWidthMicrons() : Double.NaN;
		double ph = settings.pixelSizeMicrons() > 0 ? settings.pixelSizeMicrons() : cal.hasPixelSizeMicrons() ? cal.getPixelHeightMicrons() : Double.NaN;
		return TumourAnnotations.create(regions, pw, ph, outcome.bySlidePath() ? "slide file" : "pixels from QuPath");
	}

	/** H2G-Net's networks were trained on RGB H&E brightfield; anything else would give nonsense. */
	private static ImageServer<BufferedImage> requireRgb(ImageServer<BufferedImage> server) throws SidecarException {
		if (!server.isRGB())
			throw new SidecarException(Reason.INVALID_INPUT,
					"H2G-Net segments RGB (H&E brightfield) images; this image is not RGB (" + server.getServerType() + ").");
		return server;
	}

	/**
	 * How this image reaches the sidecar: by path when it is a local slide file whose frame QuPath's
	 * server states (see {@link SlideFileLocator}), else as pixels.
	 */
	public static ImageInput inputFor(ImageServer<BufferedImage> server) {
		var file = SlideFileLocator.locate(server);
		return new ImageInput(new ImageServerPixelSource(server, imageName(server)),
				file.map(SlideFileLocator.SlideFile::path).orElse(null),
				file.map(SlideFileLocator.SlideFile::offset).orElse(FrameOffset.NONE));
	}

	private static String imageName(ImageServer<BufferedImage> server) {
		String name = server.getMetadata().getName();
		if (name != null && !name.isBlank())
			return name;
		Collection<URI> uris = server.getURIs();
		if (uris != null && uris.size() == 1) {
			String p = uris.iterator().next().getPath();
			if (p != null && !p.isEmpty())
				return p.substring(p.lastIndexOf('/') + 1);
		}
		return server.getPath();
	}

	private static Geometry areaOf(PathObject o) {
		if (o.getROI() == null || !o.getROI().isArea())
			return null;
		Geometry g = o.getROI().getGeometry();
		return g != null && !g.isEmpty() && g.getDimension() == 2 ? g : null;
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
		sb.append(".precision(").append(quote(settings.precision().wireName())).append(')');
		sb.append(".reference(").append(quote(settings.reference().wireName())).append(')');
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
		private String precision = Precision.FLOAT32.wireName();
		private String reference = RuleSet.FAST.wireName();
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

		/**
		 * The patch model's arithmetic: {@code "float32"} (the default, the reference's) or {@code "int8"}
		 * (the model set's int8 sibling, made on the sidecar's machine with {@code h2g models quantize}).
		 */
		public Builder precision(String precision) {
			this.precision = precision;
			return this;
		}

		/**
		 * The rule set: {@code "fast"} (FastPathology's rules, the default), {@code "fast-exact"}
		 * (FastPathology's even on one-tile pyramids) or {@code "h2g"} (this project's earlier rules).
		 */
		public Builder reference(String ruleSet) {
			this.reference = ruleSet;
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
