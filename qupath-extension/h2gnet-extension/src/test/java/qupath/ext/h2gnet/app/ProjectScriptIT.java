package qupath.ext.h2gnet.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.core.qupath.TumourAnnotations;
import qupath.ext.h2gnet.testing.QuPathImages;
import qupath.ext.h2gnet.testing.QuPathProcess;
import qupath.ext.h2gnet.testing.TestEnvironment;
import qupath.lib.images.servers.ImageServerMetadata;
import qupath.lib.objects.PathObject;
import qupath.lib.objects.classes.PathClass;
import qupath.lib.projects.Project;
import qupath.lib.projects.ProjectIO;
import qupath.lib.projects.Projects;

/**
 * "Run for project", for real: a QuPath project of three images made with QuPath's API (an Aperio SVS
 * and a libvips TIFF read by QuPath's OpenSlide server, a PNG read by its ImageJ server), the README's
 * project script run headless by QuPath's own command ({@code qupath.QuPath script -p ... -s}) with the
 * extension installed in QuPath's extensions folder; then the project, re-opened, has annotations and a
 * workflow step on every image, and one sidecar served the whole run.
 */
@Timeout(600)
class ProjectScriptIT {

	static final Path SCRIPT = TestEnvironment.repoRoot().resolve("qupath-extension/scripts/segment-project.groovy");

	@Test
	void theProjectScriptSegmentsEveryImageHeadlessWithOneSidecar() throws Exception {
		Path root = TestEnvironment.testOutput("project-script");
		clean(root);
		Path projectDir = Files.createDirectories(root.resolve("project"));
		// QuPath registers the JSON adapters of its image-server builders when its scripting class loads (as
		// QuPath's GUI and script command do); without them a project is saved with empty "serverBuilder"s.
		Class.forName("qupath.lib.scripting.QP");
		Project<BufferedImage> project = Projects.createProject(projectDir.toFile(), BufferedImage.class);
		add(project, TestEnvironment.slide(), "OpenslideServerBuilder", 0);
		add(project, TestEnvironment.slideTiff(), "OpenslideServerBuilder", 0);
		add(project, TestEnvironment.slidePng(), "ImageJServerBuilder", TestEnvironment.SLIDE_MPP);
		project.syncChanges();
		Path projectFile = projectDir.resolve("project.qpproj");
		assertTrue(Files.isRegularFile(projectFile));

		QuPathProcess qupath = new QuPathProcess(root, Path.of(System.getProperty("h2gnet.extensionJar")));
		String sidecar = String.join(" ", TestEnvironment.serveCommand(TestEnvironment.models("tiny"))).replace(" --port 0", "");
		Path log = root.resolve("qupath-script.log");
		Process p = qupath.qupath(List.of("script", "-p", projectFile.toString(), "-s", "-a", sidecar, SCRIPT.toString()), Map.of(), log);
		boolean ended = p.waitFor(300, TimeUnit.SECONDS);
		if (!ended)
			p.destroyForcibly().waitFor();
		String output = Files.readString(log);
		assertTrue(ended, "QuPath's script command timed out:\n" + output);
		assertEquals(0, p.exitValue(), output);

		// One sidecar for the whole run, stopped when QuPath ended.
		Matcher started = Pattern.compile("H2G-Net sidecar started \\(pid (\\d+)\\)").matcher(output);
		assertTrue(started.find(), output);
		String pid = started.group(1);
		assertFalse(started.find(), "a second sidecar was started:\n" + output);
		var handle = ProcessHandle.of(Long.parseLong(pid));
		if (handle.isPresent())
			handle.get().onExit().get(20, TimeUnit.SECONDS); // QuPath's exit stopped it (the launcher's shutdown hook)

		// Re-opened: every image has its tumour annotations and the workflow step, saved by QuPath (-s).
		Project<BufferedImage> reopened = ProjectIO.loadProject(projectFile.toFile(), BufferedImage.class);
		assertEquals(3, reopened.getImageList().size());
		for (var entry : reopened.getImageList()) {
			var data = entry.readImageData();
			var annotations = data.getHierarchy().getAnnotationObjects();
			assertFalse(annotations.isEmpty(), entry.getImageName() + " has no annotations:\n" + output);
			for (PathObject o : annotations) {
				assertSame(PathClass.fromString("Tumor"), o.getPathClass());
				assertTrue(o.getMeasurements().get(TumourAnnotations.AREA_MEASUREMENT).doubleValue() > 0);
				assertEquals(64, o.getMetadata().get("h2gnet.patch_model_sha256").length(), "metadata saved with the object");
			}
			String expectedSource = entry.getImageName().endsWith(".png") ? "pixels from QuPath" : "slide file";
			assertEquals(expectedSource, annotations.iterator().next().getMetadata().get(TumourAnnotations.SOURCE_METADATA), entry.getImageName());
			var steps = data.getHistoryWorkflow().getSteps();
			assertTrue(steps.stream().anyMatch(s -> H2GNet.WORKFLOW_STEP.equals(s.getName())), entry.getImageName() + ": " + steps);
			assertTrue(output.contains(entry.getImageName() + ": " + annotations.size() + " tumour region(s)"), output);
		}
	}

	@Test
	void theReadmeShowsTheProjectScriptExactlyAsTested() throws Exception {
		String readme = Files.readString(TestEnvironment.repoRoot().resolve("README.md"));
		String script = Files.readString(SCRIPT).strip();
		assertTrue(readme.contains("```groovy\n" + script + "\n```"), "README.md must show " + SCRIPT + " verbatim");
	}

	private static void add(Project<BufferedImage> project, Path image, String builder, double mpp) throws Exception {
		var server = QuPathImages.server(image, builder);
		var entry = project.addImage(server.getBuilder());
		entry.setImageName(image.getFileName().toString());
		if (mpp > 0) { // a PNG has no pixel size: set it as a user would in QuPath's Image tab
			var data = entry.readImageData();
			data.updateServerMetadata(new ImageServerMetadata.Builder(server.getMetadata()).pixelSizeMicrons(mpp, mpp).build());
			entry.saveImageData(data);
		}
		server.close();
	}

	private static void clean(Path dir) throws Exception {
		try (var files = Files.walk(dir)) {
			files.sorted(java.util.Comparator.reverseOrder()).filter(f -> !f.equals(dir)).forEach(f -> f.toFile().delete());
		}
	}
}
