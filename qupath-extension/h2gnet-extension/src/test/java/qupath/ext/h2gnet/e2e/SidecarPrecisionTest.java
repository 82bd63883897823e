package qupath.ext.h2gnet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.core.SegmentationReport;
import qupath.ext.h2gnet.core.SourceMode;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.core.sidecar.LaunchedSidecarConnection;
import qupath.ext.h2gnet.core.sidecar.SidecarLauncher;
import qupath.ext.h2gnet.testing.QuPathImages;
import qupath.ext.h2gnet.testing.TestEnvironment;
import qupath.lib.images.ImageData;
import qupath.lib.images.servers.ImageServer;
import qupath.lib.objects.PathObject;
import qupath.lib.plugins.workflow.ScriptableWorkflowStep;
import qupath.lib.plugins.workflow.WorkflowStep;

/**
 * The builder's precision and rule set against the real sidecar, on real QuPath {@code ImageData}:
 * a sidecar with its own models home holding only the float32 tiny set (installed with the real
 * {@code h2g models import}). An int8 request is refused with the command that makes the set; once
 * {@code h2g models quantize} has made it, the same running sidecar serves it and the annotations say
 * int8. The rule set asked for is the one the sidecar records.
 */
@Timeout(600)
class SidecarPrecisionTest {

	private static final String PRECISION = "h2gnet.precision";
	private static final String MODEL_SET = "h2gnet.model_set";
	private static final String RULE_SET = "h2gnet.param.reference";

	private static Path home;
	private static LaunchedSidecarConnection sidecar;
	private static ImageServer<BufferedImage> openSlide;

	@BeforeAll
	static void start() throws Exception {
		home = TestEnvironment.workDir().resolve("precision-home");
		deleteTree(home);
		TestEnvironment.h2g(home, "models", "import", TestEnvironment.models("tiny").toString(), "--name", "tiny");
		var config = new SidecarLauncher.Config(TestEnvironment.h2gCommand("serve", "--port", "0", "--models", "tiny"), null,
				Map.of("H2G_MODELS_HOME", home.toString()), Duration.ofMinutes(2));
		sidecar = new LaunchedSidecarConnection(new SidecarLauncher(config), SidecarClient.Options.defaults());
		openSlide = QuPathImages.openSlide(TestEnvironment.slide());
	}

	@AfterAll
	static void stop() throws Exception {
		if (sidecar != null)
			sidecar.close();
		if (openSlide != null)
			openSlide.close();
	}

	@Test
	void anInt8RequestWithoutAnInt8SetSaysHowToMakeOneAndIsServedOnceItIsMade() throws Exception {
		ImageData<BufferedImage> data = new ImageData<>(openSlide);
		int stepsBefore = data.getHistoryWorkflow().getSteps().size();
		H2GNet int8 = H2GNet.builder().connection(sidecar).precision("int8").build();

		SidecarException missing = assertThrows(SidecarException.class, () -> int8.segment(data));
		assertEquals(Reason.MODELS, missing.reason(), missing.getMessage());
		assertTrue(missing.getMessage().contains("no int8 model set made from 'tiny'"), missing.getMessage());
		assertTrue(missing.getMessage().contains("h2g models quantize tiny --calibrate"), missing.getMessage());
		assertFalse(missing.getMessage().contains("pixel size"), "the image is not to blame: " + missing.getMessage());
		SidecarException streamed = assertThrows(SidecarException.class,
				() -> H2GNet.builder().connection(sidecar).precision("int8").source(SourceMode.PIXELS).build().segment(data));
		assertEquals(Reason.MODELS, streamed.reason(), "the same when QuPath streams the pixels: " + streamed.getMessage());
		assertTrue(data.getHierarchy().getAnnotationObjects().isEmpty(), "nothing added");
		assertEquals(stepsBefore, data.getHistoryWorkflow().getSteps().size(), "no workflow step for a failed run");

		// What the message says to do, on the sidecar's machine (calibrated on one slide, checked on another).
		TestEnvironment.h2g(home, "models", "quantize", "tiny", "--calibrate", TestEnvironment.slideTiff().toString(),
				"--validate", TestEnvironment.slide().toString(), "--patches", "16", "--force");

		SegmentationReport report = int8.segmentAndReport(data, null);
		assertFalse(report.objects().isEmpty());
		assertEquals("int8", report.precision());
		assertTrue(report.describe().endsWith("\nPatch model: int8."), report.describe());
		assertEquals(Map.of(PRECISION, Set.of("int8"), MODEL_SET, Set.of("tiny-int8"), RULE_SET, Set.of("fast")),
				provenance(List.copyOf(data.getHierarchy().getAnnotationObjects())));
		assertTrue(lastScript(data).contains(".precision('int8')"), lastScript(data));
		assertEquals(1, sidecar.launcher().starts(), "the running sidecar found the new set without a restart");
	}

	@Test
	void float32AndFastPathologysRulesUnlessAskedAndTheAskedRuleSetIsTheOneUsed() throws Exception {
		ImageData<BufferedImage> plain = new ImageData<>(openSlide);
		SegmentationReport report = H2GNet.builder().connection(sidecar).build().segmentAndReport(plain, null);
		assertEquals("float32", report.precision());
		assertEquals(Map.of(PRECISION, Set.of("float32"), MODEL_SET, Set.of("tiny"), RULE_SET, Set.of("fast")), provenance(report.objects()));

		ImageData<BufferedImage> h2gRules = new ImageData<>(openSlide);
		List<PathObject> objects = H2GNet.builder().connection(sidecar).reference("h2g").build().segment(h2gRules);
		assertEquals(Map.of(PRECISION, Set.of("float32"), MODEL_SET, Set.of("tiny"), RULE_SET, Set.of("h2g")), provenance(objects));
		assertTrue(lastScript(h2gRules).contains(".precision('float32').reference('h2g')"), lastScript(h2gRules));
	}

	/** Each provenance key with the values the annotations hold for it (one each, as every region has the same). */
	private static Map<String, Set<String>> provenance(List<PathObject> objects) {
		assertFalse(objects.isEmpty());
		return Stream.of(PRECISION, MODEL_SET, RULE_SET).collect(Collectors.toMap(key -> key,
				key -> objects.stream().map(o -> String.valueOf(o.getMetadata().get(key))).collect(Collectors.toSet())));
	}

	private static String lastScript(ImageData<BufferedImage> data) {
		List<WorkflowStep> steps = data.getHistoryWorkflow().getSteps();
		return ((ScriptableWorkflowStep) steps.get(steps.size() - 1)).getScript();
	}

	private static void deleteTree(Path dir) throws Exception {
		if (!Files.exists(dir))
			return;
		try (Stream<Path> paths = Files.walk(dir)) {
			for (Path p : paths.sorted(Comparator.reverseOrder()).toList())
				Files.delete(p);
		}
	}
}
