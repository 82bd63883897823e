package qupath.ext.h2gnet.core.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.locationtech.jts.geom.Geometry;

import qupath.ext.h2gnet.testing.QuPathImages;
import qupath.ext.h2gnet.testing.TestEnvironment;
import qupath.lib.images.ImageData;
import qupath.lib.images.servers.CroppedImageServer;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.io.PathIO;
import qupath.lib.objects.PathObject;
import qupath.lib.objects.PathObjects;
import qupath.lib.objects.classes.PathClass;
import qupath.lib.projects.Project;
import qupath.lib.projects.Projects;
import qupath.lib.regions.ImagePlane;
import qupath.lib.regions.ImageRegion;
import qupath.lib.roi.ROIs;

/**
 * The export on a real QuPath project: an SVS with tumour and stroma annotations and group/split
 * metadata, a cropped view of it (annotations in the crop's frame must come back in the file's), a
 * TIFF without annotations and a PNG (not a slide file) are left out with reasons; the files are read
 * back with QuPath's own GeoJSON reader.
 */
class TrainingDataExportTest {

	private static final Set<String> SLIDE_KEYS = Set.of("id", "slide", "annotations", "mpp", "group", "split");

	@TempDir
	static Path dir;
	private static Project<BufferedImage> project;
	private static Geometry tumourA, tumourB, croppedTumour;

	@BeforeAll
	static void makeProject() throws Exception {
		Class.forName("qupath.lib.scripting.QP"); // QuPath's JSON adapters for server builders (see ProjectScriptIT)
		project = Projects.createProject(Files.createDirectories(dir.resolve("my-cohort")).toFile(), BufferedImage.class);
		ImageServer<BufferedImage> svs = QuPathImages.openSlide(TestEnvironment.slide());

		var entry = project.addImage(svs.getBuilder());
		entry.setImageName("CMU 1 (svs).svs");
		entry.getMetadata().put("group", "grade-2");
		entry.getMetadata().put("split", "train");
		ImageData<BufferedImage> data = entry.readImageData();
		PathObject a = tumour(100, 200, 300, 400), b = tumour(1000, 1500, 200, 100);
		PathObject stroma = PathObjects.createAnnotationObject(ROIs.createRectangleROI(0, 0, 50, 50, ImagePlane.getDefaultPlane()),
				PathClass.fromString("Stroma"));
		data.getHierarchy().addObjects(List.of(a, b, stroma));
		entry.saveImageData(data);
		tumourA = a.getROI().getGeometry();
		tumourB = b.getROI().getGeometry();

		var cropped = new CroppedImageServer(svs, ImageRegion.createInstance(100, 60, 2000, 2800, 0, 0));
		var croppedEntry = project.addImage(cropped.getBuilder());
		croppedEntry.setImageName("cropped view");
		var croppedData = croppedEntry.readImageData();
		PathObject c = tumour(10, 20, 300, 200); // in the crop's frame: (110, 80) in the file's
		croppedData.getHierarchy().addObject(c);
		croppedEntry.saveImageData(croppedData);
		croppedTumour = c.getROI().getGeometry();

		project.addImage(QuPathImages.server(TestEnvironment.slideTiff(), "OpenslideServerBuilder").getBuilder()).setImageName("no annotations.tif");
		var png = project.addImage(QuPathImages.server(TestEnvironment.slidePng(), "ImageJServerBuilder").getBuilder());
		png.setImageName("picture.png");
		var pngData = png.readImageData();
		pngData.getHierarchy().addObject(tumour(5, 5, 20, 20));
		png.saveImageData(pngData);
		project.syncChanges();
	}

	private static PathObject tumour(double x, double y, double w, double h) {
		return PathObjects.createAnnotationObject(ROIs.createEllipseROI(x, y, w, h, ImagePlane.getDefaultPlane()), PathClass.fromString("Tumor"));
	}

	@Test
	void writesTheDatasetFileAndEachImagesTumourInTheSlideFilesFrame() throws Exception {
		Path out = dir.resolve("export-1");
		var result = TrainingDataExport.builder().output(out).build().export(project);
		assertEquals(out.resolve("dataset.json"), result.datasetFile());
		assertEquals(Map.of("CMU 1 (svs).svs", "CMU_1_svs_", "cropped view", "cropped_view"), result.exported());
		assertEquals(Set.of("no annotations.tif", "picture.png"), result.skipped().keySet());
		assertTrue(result.skipped().get("no annotations.tif").contains("no Tumor annotations"));
		assertTrue(result.skipped().get("picture.png").contains("not a slide file"), result.skipped().toString());

		JsonObject dataset = JsonParser.parseString(Files.readString(result.datasetFile())).getAsJsonObject();
		assertEquals(Set.of("schemaVersion", "name", "createdBy", "slides"), dataset.keySet());
		assertEquals(1, dataset.get("schemaVersion").getAsInt());
		assertEquals("my-cohort", dataset.get("name").getAsString());
		assertTrue(dataset.get("createdBy").getAsString().matches("qupath-extension-h2gnet \\d+\\.\\d+\\.\\d+.*"), dataset.toString());
		var slides = dataset.getAsJsonArray("slides");
		assertEquals(2, slides.size());
		Set<String> ids = new HashSet<>();
		for (var e : slides) {
			JsonObject s = e.getAsJsonObject();
			assertTrue(SLIDE_KEYS.containsAll(s.keySet()), "unknown keys: " + s.keySet());
			assertTrue(s.get("id").getAsString().matches("[A-Za-z0-9._-]+"));
			assertTrue(ids.add(s.get("id").getAsString()));
			assertEquals(TestEnvironment.slide().toAbsolutePath().toString(), s.get("slide").getAsString());
			assertEquals(TestEnvironment.SLIDE_MPP, s.get("mpp").getAsDouble(), 1e-6);
			assertTrue(Files.isRegularFile(out.resolve(s.get("annotations").getAsString())));
		}
		JsonObject first = slides.get(0).getAsJsonObject();
		assertEquals("grade-2", first.get("group").getAsString());
		assertEquals("train", first.get("split").getAsString());
		assertFalse(slides.get(1).getAsJsonObject().has("split"), "absent = the trainer assigns one");

		// Read back with QuPath's own reader: only the tumour, in the file's frame.
		List<PathObject> svsObjects = PathIO.readObjects(out.resolve(first.get("annotations").getAsString()));
		assertEquals(2, svsObjects.size(), "the stroma annotation is not exported");
		svsObjects.forEach(o -> assertSame(PathClass.fromString("Tumor"), o.getPathClass()));
		QuPathImages.assertSameRegions(List.of(tumourA, tumourB), QuPathImages.geometries(svsObjects));
		String raw = Files.readString(out.resolve(first.get("annotations").getAsString()));
		assertTrue(raw.contains("\"FeatureCollection\"") && raw.contains("\"name\":\"Tumor\""), raw.substring(0, Math.min(300, raw.length())));

		List<PathObject> croppedObjects = PathIO.readObjects(out.resolve(slides.get(1).getAsJsonObject().get("annotations").getAsString()));
		Geometry expected = new qupath.ext.h2gnet.core.geojson.FrameOffset(100, 60).toFile(croppedTumour);
		QuPathImages.assertSameRegions(List.of(expected), QuPathImages.geometries(croppedObjects));
		assertEquals(110, croppedObjects.get(0).getROI().getBoundsX(), 0.01, "the crop's offset undone");
	}

	@Test
	void anExistingDatasetIsOnlyReplacedWhenAsked() throws Exception {
		Path out = dir.resolve("export-2");
		TrainingDataExport.builder().output(out).build().export(project);
		String before = Files.readString(out.resolve("dataset.json"));
		var e = assertThrows(java.io.IOException.class, () -> TrainingDataExport.builder().output(out).build().export(project));
		assertTrue(e.getMessage().contains("exists already"), e.getMessage());
		assertEquals(before, Files.readString(out.resolve("dataset.json")), "left as it was");
		var again = TrainingDataExport.builder().output(out).name("renamed").overwrite(true).build().export(project);
		assertTrue(Files.readString(again.datasetFile()).contains("\"renamed\""));
		try (var files = Files.list(out.resolve("annotations"))) {
			assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary files left");
		}
	}

	@Test
	void aProjectWithNothingToExportWritesNoDatasetFile() throws Exception {
		Project<BufferedImage> empty = Projects.createProject(Files.createDirectories(dir.resolve("empty")).toFile(), BufferedImage.class);
		empty.addImage(QuPathImages.server(TestEnvironment.slideTiff(), "OpenslideServerBuilder").getBuilder());
		Path out = dir.resolve("export-3");
		var e = assertThrows(java.io.IOException.class, () -> TrainingDataExport.builder().output(out).build().export(empty));
		assertTrue(e.getMessage().contains("no Tumor annotations"), e.getMessage());
		assertFalse(Files.exists(out.resolve("dataset.json")));
	}

	@Test
	void idsAreFileNameSafeAndUnique() {
		Set<String> taken = new HashSet<>();
		assertEquals("slide_1", TrainingDataExport.uniqueId("slide 1.svs", taken));
		assertEquals("slide_1-2", TrainingDataExport.uniqueId("slide#1.ndpi", taken));
		assertEquals("image", TrainingDataExport.uniqueId("...", taken));
		assertEquals("a.b", TrainingDataExport.uniqueId("a.b.mrxs", taken));
	}
}
