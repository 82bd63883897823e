package qupath.ext.h2gnet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.locationtech.jts.geom.Envelope;
import org.locationtech.jts.geom.Geometry;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.core.ImageInput;
import qupath.ext.h2gnet.core.SegmentationOutcome;
import qupath.ext.h2gnet.core.SourceMode;
import qupath.ext.h2gnet.core.client.JobProgress;
import qupath.ext.h2gnet.core.client.PatchScoreBatch;
import qupath.ext.h2gnet.core.client.SegmentListener;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.ext.h2gnet.core.geojson.GeoJsonGeometry;
import qupath.ext.h2gnet.core.geojson.TumourRegion;
import qupath.ext.h2gnet.core.pixels.BufferedImagePixelSource;
import qupath.ext.h2gnet.core.qupath.TumourAnnotations;
import qupath.ext.h2gnet.core.sidecar.LaunchedSidecarConnection;
import qupath.ext.h2gnet.core.sidecar.SidecarLauncher;
import qupath.ext.h2gnet.grpc.v1.ServerInfo;
import qupath.ext.h2gnet.testing.QuPathImages;
import qupath.ext.h2gnet.testing.TestEnvironment;
import qupath.lib.objects.PathObject;

/**
 * Against the real sidecar ({@code node bin/h2g.js serve} with generated tiny models): the same slide
 * segmented by path and by pixels supplied from a PNG of it gives the same polygons, which import as
 * classified annotations with provenance and areas.
 */
@Timeout(300)
class SidecarSegmentationTest {

	private static LaunchedSidecarConnection sidecar;
	private static BufferedImagePixelSource pngPixels;

	@BeforeAll
	static void startSidecar() throws Exception {
		Path models = TestEnvironment.models("tiny");
		sidecar = new LaunchedSidecarConnection(new SidecarLauncher(SidecarLauncher.Config.of(TestEnvironment.serveCommand(models))),
				SidecarClient.Options.defaults());
		BufferedImage png = ImageIO.read(TestEnvironment.slidePng().toFile());
		pngPixels = new BufferedImagePixelSource("CMU-1-Small-Region.png", png, TestEnvironment.SLIDE_MPP);
	}

	@AfterAll
	static void stopSidecar() {
		if (sidecar != null)
			sidecar.close();
	}

	private static H2GNet h2gnet(SourceMode mode, SegmentListener listener) {
		return H2GNet.builder().connection(sidecar).source(mode).tissueThreshold(0.5).livePatches(true).listener(listener).build();
	}

	private static ImageInput slideInput() {
		return new ImageInput(pngPixels, TestEnvironment.slide(), FrameOffset.NONE);
	}

	@Test
	void infoListsModelsWithDigests() throws Exception {
		ServerInfo info = sidecar.client().info();
		assertFalse(info.getVersion().isBlank());
		assertFalse(info.getModelSetsList().isEmpty());
		info.getModelSets(0).getFilesList().forEach(f -> assertEquals(64, f.getSha256().length(), f.getFile()));
	}

	@Test
	void byPathAndByPixelsGiveTheSameGeometries() throws Exception {
		List<JobProgress> progress = new CopyOnWriteArrayList<>();
		List<PatchScoreBatch> patches = new CopyOnWriteArrayList<>();
		SegmentListener recorder = new SegmentListener() {
			@Override
			public void onProgress(JobProgress p) {
				progress.add(p);
			}

			@Override
			public void onPatches(PatchScoreBatch p) {
				patches.add(p);
			}
		};
		SegmentationOutcome byPath = h2gnet(SourceMode.SLIDE_FILE, recorder).run(slideInput(), null);
		assertTrue(byPath.bySlidePath());
		assertFalse(byPath.regions().isEmpty(), "the tiny models find some regions on this slide");
		assertFalse(progress.isEmpty(), "progress events arrive");
		assertEquals("done", progress.get(progress.size() - 1).stage());
		assertFalse(patches.isEmpty(), "live patch scores arrive");

		SegmentationOutcome byPixels = h2gnet(SourceMode.PIXELS, SegmentListener.NONE).run(ImageInput.pixelsOnly(pngPixels), null);
		assertFalse(byPixels.bySlidePath());
		assertSameGeometries(byPath.regions(), byPixels.regions());
		assertEquals(byPath.summary().patchesInferred(), byPixels.summary().patchesInferred());
		assertEquals(byPath.summary().tumourAreaMm2(), byPixels.summary().tumourAreaMm2(), 1e-9);
	}

	@Test
	void importedObjectsAreClassifiedTumourWithProvenanceAndArea() throws Exception {
		SegmentationOutcome outcome = h2gnet(SourceMode.SLIDE_FILE, null).run(slideInput(), null);
		double mpp = TestEnvironment.SLIDE_MPP;
		List<PathObject> objects = TumourAnnotations.create(outcome.regions(), mpp, mpp, "slide file");
		assertEquals(outcome.regions().size(), objects.size());
		assertEquals(outcome.summary().polygonCount(), objects.size());
		double totalUm2 = 0;
		for (int i = 0; i < objects.size(); i++) {
			PathObject o = objects.get(i);
			Geometry sidecarOutline = outcome.regions().get(i).geometry();
			assertTrue(o.isAnnotation());
			assertEquals("Tumor", o.getPathClass().getName());
			var meta = o.getMetadata();
			assertEquals(64, meta.get("h2gnet.patch_model_sha256").length(), meta.toString());
			assertEquals(64, meta.get("h2gnet.refinement_model_sha256").length());
			assertEquals("0.5", meta.get("h2gnet.param.tissueThreshold"));
			assertEquals("slide file", meta.get(TumourAnnotations.SOURCE_METADATA));
			double area = o.getMeasurements().get(TumourAnnotations.AREA_MEASUREMENT).doubleValue();
			assertEquals(o.getROI().getScaledArea(mpp, mpp), area, 1e-9 * area, "the measurement is QuPath's own ROI area");
			assertEquals(sidecarOutline.getArea(), o.getROI().getArea(), QuPathImages.gridTolerance(sidecarOutline),
					"QuPath's ROI (0.01 px grid) keeps the sidecar's outline");
			totalUm2 += area;
		}
		// The summary's tumour area is the same regions, in mm^2.
		assertEquals(outcome.summary().tumourAreaMm2(), totalUm2 / 1e6, 0.01 * outcome.summary().tumourAreaMm2() + 1e-6);
	}

	@Test
	void segmentInsideARegionOnlyReturnsPolygonsInsideIt() throws Exception {
		Geometry roi = GeoJsonGeometry.factory().toGeometry(new Envelope(0, 1200, 0, 1500));
		SegmentationOutcome inside = h2gnet(SourceMode.SLIDE_FILE, null).run(slideInput(), roi);
		Geometry grown = roi.buffer(1.0);
		for (TumourRegion r : inside.regions())
			assertTrue(grown.contains(r.geometry()), "region outside the ROI: " + r.geometry().getEnvelopeInternal());
		assertEquals("true", inside.regions().isEmpty() ? "true" : inside.regions().get(0).metadata().get("h2gnet.param.roi"));
	}

	static void assertSameGeometries(List<TumourRegion> expected, List<TumourRegion> actual) {
		assertEquals(expected.size(), actual.size(), "number of regions");
		Comparator<Geometry> order = Comparator.<Geometry>comparingDouble(g -> g.getEnvelopeInternal().getMinX())
				.thenComparingDouble(g -> g.getEnvelopeInternal().getMinY())
				.thenComparingDouble(Geometry::getArea);
		List<Geometry> a = expected.stream().map(TumourRegion::geometry).sorted(order).toList();
		List<Geometry> b = actual.stream().map(TumourRegion::geometry).sorted(order).toList();
		for (int i = 0; i < a.size(); i++) {
			Geometry ga = a.get(i), gb = b.get(i);
			double diff = ga.symDifference(gb).getArea();
			assertNotNull(gb);
			assertTrue(diff <= 1e-6 * Math.max(1, ga.getArea()), "region " + i + " differs by area " + diff + ": " + ga + " vs " + gb);
		}
	}
}
