package qupath.ext.h2gnet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.locationtech.jts.geom.Envelope;
import org.locationtech.jts.geom.Geometry;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.core.ImageInput;
import qupath.ext.h2gnet.core.SegmentationReport;
import qupath.ext.h2gnet.core.SourceMode;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.ext.h2gnet.core.qupath.TumourAnnotations;
import qupath.ext.h2gnet.core.sidecar.LaunchedSidecarConnection;
import qupath.ext.h2gnet.core.sidecar.SidecarLauncher;
import qupath.ext.h2gnet.testing.QuPathImages;
import qupath.ext.h2gnet.testing.TestEnvironment;
import qupath.lib.images.ImageData;
import qupath.lib.images.servers.CroppedImageServer;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.objects.PathObject;
import qupath.lib.objects.PathObjects;
import qupath.lib.objects.classes.PathClass;
import qupath.lib.plugins.workflow.ScriptableWorkflowStep;
import qupath.lib.plugins.workflow.WorkflowStep;
import qupath.lib.regions.ImagePlane;
import qupath.lib.regions.ImageRegion;
import qupath.lib.roi.GeometryTools;
import qupath.lib.roi.ROIs;

/**
 * The builder on real QuPath {@code ImageData}: the shared slide opened with QuPath's own OpenSlide
 * server (read by path), its PNG opened with QuPath's ImageJ server (pixels streamed), and QuPath's
 * cropped-server wrapper (a frame offset the server states). Checks what lands in the real object
 * hierarchy: counts, class, metadata, measurements, parents, areas against QuPath's own ROI areas, and
 * the workflow step.
 */
@Timeout(300)
class QuPathImageDataTest {

	private static LaunchedSidecarConnection sidecar;
	private static ImageServer<BufferedImage> openSlide;
	/** The whole-image result on the OpenSlide server, QuPath's ROIs: the reference for the other tests. */
	private static List<Geometry> reference;

	@BeforeAll
	static void start() throws Exception {
		sidecar = new LaunchedSidecarConnection(
				new SidecarLauncher(SidecarLauncher.Config.of(TestEnvironment.serveCommand(TestEnvironment.models("tiny")))),
				SidecarClient.Options.defaults());
		openSlide = QuPathImages.openSlide(TestEnvironment.slide());
		ImageData<BufferedImage> data = new ImageData<>(openSlide);
		reference = QuPathImages.geometries(h2g(SourceMode.AUTO).segment(data));
		assertTrue(reference.size() >= 3, "the tiny models find several regions on this slide: " + reference.size());
	}

	@AfterAll
	static void stop() throws Exception {
		if (sidecar != null)
			sidecar.close();
		if (openSlide != null)
			openSlide.close();
	}

	private static H2GNet h2g(SourceMode mode) {
		return H2GNet.builder().connection(sidecar).source(mode).tissueThreshold(0.5).build();
	}

	@Test
	void openSlideServerIsReadByPathAndTheHierarchyGetsClassifiedAnnotationsWithProvenance() throws Exception {
		ImageData<BufferedImage> data = new ImageData<>(openSlide);
		H2GNet h2g = h2g(SourceMode.AUTO);
		SegmentationReport report = h2g.segmentAndReport(data, null);
		assertTrue(report.bySlidePath(), "QuPath's OpenSlide server on a local file: by path");
		assertFalse(report.demoWeights());

		var hierarchy = data.getHierarchy();
		List<PathObject> annotations = new ArrayList<>(hierarchy.getAnnotationObjects());
		assertEquals(report.summary().polygonCount(), annotations.size(), "one annotation per sidecar polygon");
		assertEquals(annotations.size(), report.objects().size());
		double mpp = openSlide.getPixelCalibration().getAveragedPixelSizeMicrons();
		assertEquals(TestEnvironment.SLIDE_MPP, mpp, 1e-6);
		double totalUm2 = 0;
		for (PathObject o : annotations) {
			assertSame(hierarchy.getRootObject(), o.getParent(), "whole-image results sit at the root");
			assertSame(PathClass.fromString("Tumor"), o.getPathClass());
			assertEquals(64, o.getMetadata().get("h2gnet.patch_model_sha256").length());
			assertEquals("0.5", o.getMetadata().get("h2gnet.param.tissueThreshold"));
			assertEquals("slide file", o.getMetadata().get(TumourAnnotations.SOURCE_METADATA));
			double um2 = o.getMeasurements().get(TumourAnnotations.AREA_MEASUREMENT).doubleValue();
			assertEquals(o.getROI().getScaledArea(mpp, mpp), um2, 1e-9 * um2, "area measurement = QuPath's ROI area");
			totalUm2 += um2;
		}
		assertEquals(report.summary().tumourAreaMm2() * 1e6, totalUm2, 0.001 * totalUm2, "QuPath's areas add up to the sidecar's tumour area");
		QuPathImages.assertSameRegions(reference, QuPathImages.geometries(annotations));

		List<WorkflowStep> steps = data.getHistoryWorkflow().getSteps();
		WorkflowStep last = steps.get(steps.size() - 1);
		assertEquals(H2GNet.WORKFLOW_STEP, last.getName());
		assertEquals(h2g.toScript(false), ((ScriptableWorkflowStep) last).getScript());
	}

	@Test
	void imageJServerPixelsAreStreamedAndGiveTheSameAnnotations() throws Exception {
		ImageData<BufferedImage> data = QuPathImages.imageJ(TestEnvironment.slidePng(), TestEnvironment.SLIDE_MPP);
		assertFalse(H2GNet.inputFor(data.getServer()).hasSlideFile(), data.getServer().getServerType() + ": not a slide file");
		SegmentationReport report = h2g(SourceMode.AUTO).segmentAndReport(data, null);
		assertFalse(report.bySlidePath(), "pixels streamed from QuPath's ImageJ server");
		List<PathObject> annotations = new ArrayList<>(data.getHierarchy().getAnnotationObjects());
		annotations.forEach(o -> assertEquals("pixels from QuPath", o.getMetadata().get(TumourAnnotations.SOURCE_METADATA)));
		QuPathImages.assertSameRegions(reference, QuPathImages.geometries(annotations));
	}

	@Test
	void resultsInsideSelectedAnnotationsBecomeTheirChildren() throws Exception {
		ImageData<BufferedImage> data = new ImageData<>(openSlide);
		var hierarchy = data.getHierarchy();
		int w = openSlide.getWidth(), h = openSlide.getHeight();
		// Two adjacent annotations covering the slide (regions crossing x = w/2 are cut in two), and one
		// more the user did not select.
		PathObject left = annotation(0, 0, w / 2.0, h), right = annotation(w / 2.0, 0, w - w / 2.0, h);
		PathObject other = annotation(10, 10, 50, 50);
		hierarchy.addObjects(List.of(left, right, other));

		List<PathObject> added = h2g(SourceMode.AUTO).segmentInside(data, List.of(left, right));
		assertFalse(left.getChildObjects().isEmpty(), "tumour in the left half");
		assertFalse(right.getChildObjects().isEmpty(), "tumour in the right half");
		assertEquals(added.size(), left.getChildObjects().size() + right.getChildObjects().size(), "every result is a child of a selection");
		assertTrue(other.getChildObjects().isEmpty());
		assertEquals(3, hierarchy.getRootObject().getChildObjects().size(), "nothing new at the root");
		for (PathObject parent : List.of(left, right)) {
			Geometry area = parent.getROI().getGeometry().buffer(0.01);
			for (PathObject child : parent.getChildObjects()) {
				assertTrue(area.covers(child.getROI().getGeometry()), "child inside its parent");
				assertSame(PathClass.fromString("Tumor"), child.getPathClass());
			}
		}
		// Together the pieces are the whole-image result (the halves cover the slide).
		double pieces = added.stream().mapToDouble(o -> o.getROI().getArea()).sum();
		double whole = reference.stream().mapToDouble(Geometry::getArea).sum();
		double tolerance = reference.stream().mapToDouble(QuPathImages::gridTolerance).sum() + 2 * h * 0.01;
		assertEquals(whole, pieces, tolerance);
		var step = data.getHistoryWorkflow().getSteps().get(data.getHistoryWorkflow().size() - 1);
		assertTrue(((ScriptableWorkflowStep) step).getScript().contains(".segmentInside("), step.toString());
	}

	@Test
	void aCroppedServerIsReadByPathAndItsResultsShiftedIntoQuPathsFrame() throws Exception {
		int dx = 100, dy = 60;
		var cropped = new CroppedImageServer(openSlide, ImageRegion.createInstance(dx, dy, openSlide.getWidth() - dx, openSlide.getHeight() - dy, 0, 0));
		ImageInput input = H2GNet.inputFor(cropped);
		assertEquals(TestEnvironment.slide(), input.slideFile(), "the cropped server's file");
		assertEquals(new FrameOffset(dx, dy), input.fileOffset(), "the crop region is the frame offset");

		ImageData<BufferedImage> data = new ImageData<>(cropped);
		SegmentationReport report = h2g(SourceMode.AUTO).segmentAndReport(data, null);
		assertTrue(report.bySlidePath());
		Geometry frame = GeometryTools.getDefaultFactory().toGeometry(new Envelope(0, cropped.getWidth(), 0, cropped.getHeight()));
		List<Geometry> expected = new ArrayList<>();
		for (Geometry g : reference) {
			Geometry moved = new FrameOffset(dx, dy).toImage(g).intersection(frame);
			if (moved.getArea() > 0)
				expected.add(moved);
		}
		QuPathImages.assertSameRegions(expected, QuPathImages.geometries(new ArrayList<>(data.getHierarchy().getAnnotationObjects())));
	}

	@Test
	void demoWeightsAreSaidInTheReport() throws Exception {
		try (var demo = new LaunchedSidecarConnection(
				new SidecarLauncher(SidecarLauncher.Config.of(TestEnvironment.serveCommand(TestEnvironment.demoModels()))),
				SidecarClient.Options.defaults())) {
			ImageData<BufferedImage> data = new ImageData<>(openSlide);
			SegmentationReport report = H2GNet.builder().connection(demo).build().segmentAndReport(data, null);
			assertTrue(report.demoWeights());
			assertTrue(report.describe().startsWith("DEMO WEIGHTS - not a diagnosis"), report.describe());
			assertEquals("true", report.objects().get(0).getMetadata().get("h2gnet.demo_weights"));
		}
	}

	private static PathObject annotation(double x, double y, double w, double h) {
		return PathObjects.createAnnotationObject(ROIs.createRectangleROI(x, y, w, h, ImagePlane.getDefaultPlane()));
	}
}
