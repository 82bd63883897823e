package qupath.ext.h2gnet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where the tests find the real sidecar, the shared slides and the test-model generator. Paths come
 * from system properties set by the pom (overridable with -D): the repository root, and
 * {@code ../shared/data} relative to it. Generated files go under target/test-work and are reused.
 */
public final class TestEnvironment {

	public static final String SLIDE_NAME = "CMU-1-Small-Region.svs";
	/** aperio.MPP of the slide (the shared data README). */
	public static final double SLIDE_MPP = 0.499;

	private TestEnvironment() {
	}

	public static Path repoRoot() {
		return Path.of(System.getProperty("h2gnet.repoRoot", "../..")).toAbsolutePath().normalize();
	}

	public static Path sharedData() {
		String p = System.getProperty("h2gnet.sharedData");
		return (p != null ? Path.of(p) : repoRoot().resolve("../shared/data")).toAbsolutePath().normalize();
	}

	public static Path slide() {
		Path slide = sharedData().resolve(SLIDE_NAME);
		assertTrue(Files.isRegularFile(slide), "Shared test slide missing: " + slide + " (set -Dh2gnet.sharedData)");
		return slide;
	}

	public static Path workDir() throws IOException {
		Path dir = Path.of("target", "test-work").toAbsolutePath();
		Files.createDirectories(dir);
		return dir;
	}

	/** Test models of a variant ("tiny", "oracle"), generated once. */
	public static synchronized Path models(String variant) throws IOException, InterruptedException {
		Path dir = workDir().resolve("models-" + variant);
		if (!Files.exists(dir.resolve("refinement_network_breast_cancer.onnx"))) {
			run(List.of(System.getProperty("h2gnet.python", "/usr/bin/python3"),
					repoRoot().resolve("scripts/make_test_models.py").toString(), "--variant", variant, "--out", dir.toString()));
		}
		return dir;
	}

	/** The tiny test models marked as demo weights by a manifest (as `npm run demo` installs them), made once. */
	public static synchronized Path demoModels() throws IOException, InterruptedException {
		Path dir = workDir().resolve("models-demo");
		if (!Files.exists(dir.resolve("h2g-models.json"))) {
			Files.createDirectories(dir);
			Path tiny = models("tiny");
			for (String f : new String[] { "patchwise_mobilenet_network_breast_cancer.onnx", "refinement_network_breast_cancer.onnx" })
				Files.copy(tiny.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
			Files.writeString(dir.resolve("h2g-models.json"), """
					{"schemaVersion": 1, "name": "demo", "demo": true, "source": "generated",
					 "files": {"patch": {"file": "patchwise_mobilenet_network_breast_cancer.onnx"},
					           "refinement": {"file": "refinement_network_breast_cancer.onnx"}}}
					""");
		}
		return dir;
	}

	/** The folder of the real QuPath jars the tests run inside (the qupath-shared profile), or fail. */
	public static Path qupathDir() {
		String p = System.getProperty("h2gnet.qupathDir", "");
		assertTrue(!p.isBlank() && Files.isRegularFile(Path.of(p, "qupath-app.jar")),
				"QuPath's jars not found (h2gnet.qupathDir='" + p + "'): run with -P qupath-shared (scripts/test-java.sh)");
		return Path.of(p);
	}

	/** Where tests leave what a person should look at (screenshots, logs): target/qupath-<v>/test-output/NAME. */
	public static Path testOutput(String name) throws IOException {
		Path dir = Path.of(System.getProperty("h2gnet.testOutput", "target/test-output"), name).toAbsolutePath();
		Files.createDirectories(dir);
		return dir;
	}

	/**
	 * A second real slide file: the shared slide at half size as a pyramidal JPEG TIFF made with libvips
	 * (OpenSlide's generic-tiff, 0.998 um/px from its resolution tags), made once.
	 */
	public static synchronized Path slideTiff() throws IOException, InterruptedException {
		Path tif = workDir().resolve("CMU-1-half.tif");
		if (!Files.exists(tif)) {
			Path half = workDir().resolve("CMU-1-half.v");
			Path tmp = workDir().resolve("CMU-1-half.tmp.tif");
			run(List.of("vips", "resize", slide().toString(), half.toString(), "0.5"));
			run(List.of("vips", "tiffsave", half.toString(), tmp.toString(), "--tile", "--tile-width", "256", "--tile-height", "256",
					"--pyramid", "--compression", "jpeg", "--Q", "90", "--xres", "1002", "--yres", "1002", "--resunit", "cm"));
			Files.delete(half);
			Files.move(tmp, tif);
		}
		return tif;
	}

	/** The slide as a PNG made with libvips (the "image from elsewhere" of the pixel tests), made once. */
	public static synchronized Path slidePng() throws IOException, InterruptedException {
		Path png = workDir().resolve("CMU-1-Small-Region.png");
		if (!Files.exists(png)) {
			Path tmp = workDir().resolve("CMU-1-Small-Region.tmp.png");
			run(List.of("vips", "copy", slide().toString(), tmp.toString()));
			Files.move(tmp, png);
		}
		return png;
	}

	/** {@code node <repo>/bin/h2g.js serve --port 0 --models <dir> [extra...]}. */
	public static List<String> serveCommand(Path models, String... extra) {
		List<String> cmd = h2gCommand("serve", "--port", "0", "--models", models.toString());
		cmd.addAll(Arrays.asList(extra));
		return cmd;
	}

	/** {@code node <repo>/bin/h2g.js ARGS...}: the real CLI. */
	public static List<String> h2gCommand(String... args) {
		Path cli = repoRoot().resolve("bin/h2g.js");
		assertTrue(Files.isRegularFile(cli), "Sidecar CLI missing: " + cli);
		List<String> cmd = new ArrayList<>(List.of(System.getProperty("h2gnet.node", "node"), cli.toString()));
		cmd.addAll(Arrays.asList(args));
		return cmd;
	}

	/** Runs the h2g CLI with {@code H2G_MODELS_HOME=home} (install, quantize...) and fails the test if it fails. */
	public static void h2g(Path home, String... args) throws IOException, InterruptedException {
		run(h2gCommand(args), Map.of("H2G_MODELS_HOME", home.toString()), 300);
	}

	private static void run(List<String> command) throws IOException, InterruptedException {
		run(command, Map.of(), 120);
	}

	private static void run(List<String> command, Map<String, String> env, int timeoutSeconds) throws IOException, InterruptedException {
		ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
		pb.environment().putAll(env);
		Process p = pb.start();
		String output = new String(p.getInputStream().readAllBytes());
		assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "Timed out: " + command);
		assertEquals(0, p.exitValue(), "Failed: " + String.join(" ", command) + "\n" + output);
	}
}
