package qupath.ext.h2gnet.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.testing.QuPathProcess;
import qupath.ext.h2gnet.testing.TestEnvironment;

/**
 * The real QuPath GUI under Xvfb with the extension jar in its extensions folder (the 0.6.0 build's jar,
 * the one users install, in both QuPath runs): the slide opens, the menu command runs with the rule set
 * the preferences name, annotations arrive, a second run cancelled mid-job adds nothing and leaves the sidecar healthy. Screenshots of the
 * progress window and the result are left in target/qupath-<v>/test-output/gui/ for a person to look at.
 * The GUI is driven by {@code gui/smoke-driver.groovy}, QuPath's startup script, through QuPath's own menu.
 */
@Timeout(600)
class GuiSmokeIT {

	@Test
	void theMenuCommandSegmentsTheOpenSlideAndCancelAddsNothing() throws Exception {
		Path out = TestEnvironment.testOutput("gui");
		try (var files = Files.list(out)) {
			for (Path f : files.toList())
				Files.delete(f);
		}
		Path root = Files.createDirectories(out.resolveSibling("gui-installation"));
		Path jar = Path.of(System.getProperty("h2gnet.guiJar"));
		String sidecar = String.join(" ", TestEnvironment.serveCommand(TestEnvironment.demoModels())).replace(" --port 0", "");
		QuPathProcess qupath = new QuPathProcess(root, jar, Map.of(
				"h2gnet.sidecar.launchCommand", sidecar,
				"h2gnet.liveOverlay", "true",
				// Not the default: shows the preference reaches the sidecar (float32 is the default, int8 needs a quantized set).
				"h2gnet.reference", "h2g",
				"imageTypeSetting", "AUTO_ESTIMATE", // no "Set image type" prompt when the slide opens
				"openslide.path", System.getProperty("h2gnet.openslideDir", "/usr/lib/x86_64-linux-gnu")));
		Path driver = root.resolve("smoke-driver.groovy");
		try (var in = GuiSmokeIT.class.getResourceAsStream("/gui/smoke-driver.groovy")) {
			Files.copy(in, driver, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
		}

		try (Xvfb display = Xvfb.start()) {
			Path log = out.resolve("qupath.log");
			Process p = qupath.qupath(List.of("-q", "-i", TestEnvironment.slide().toString()), Map.of("DISPLAY", display.name()), log,
					"-Dprism.order=sw", "-Dqupath.startup.script=" + driver, "-Dh2gnet.smoke.out=" + out);
			boolean ended = false;
			for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(420); !ended && System.nanoTime() < end;) {
				ended = p.waitFor(1, TimeUnit.SECONDS);
				if (!ended && Files.readString(log).contains("Exception running startup script"))
					break; // the driver itself failed: no point waiting
			}
			if (!ended)
				p.destroyForcibly().waitFor();
			String output = Files.readString(log);
			assertTrue(ended, "QuPath's GUI did not finish the smoke test:\n" + output);
			Path reportFile = out.resolve("report.json");
			assertTrue(Files.isRegularFile(reportFile), "the driver wrote no report:\n" + output);
			JsonObject report = JsonParser.parseString(Files.readString(reportFile)).getAsJsonObject();
			assertNull(report.get("error"), report + "\n" + output);
			assertEquals(0, p.exitValue(), output);

			assertTrue(report.get("menu").toString().contains("Segment tumour (selected annotations)"), report.toString());
			JsonObject preferences = report.getAsJsonObject("preferences");
			assertEquals("float32", preferences.get("Precision").getAsString(), "the default: " + preferences);
			assertEquals("h2g", preferences.get("Rule set").getAsString(), "the stored preference: " + preferences);
			// Every text the progress window showed, watched all along: a short job can end between two looks.
			String progress = report.get("progressTexts").toString();
			assertTrue(progress.contains("H2G-Net: CMU-1-Small-Region.svs"), "the progress window names the image: " + report);
			JsonObject first = report.getAsJsonObject("first");
			int n = first.get("annotations").getAsInt();
			assertTrue(n > 0, report.toString());
			assertEquals(n, first.get("tumour").getAsInt(), "all Tumor");
			assertEquals(n, first.get("atRoot").getAsInt(), "whole-image results at the root");
			assertEquals(n, first.get("demo").getAsInt(), "provenance says demo weights");
			assertTrue(first.get("workflow").toString().contains(H2GNet.WORKFLOW_STEP), report.toString());
			assertEquals("[\"h2g\"]", first.get("ruleSets").toString(), "the rule set of the preferences made every region");
			assertEquals("[\"float32\"]", first.get("precisions").toString());
			assertTrue(first.get("script").getAsString().contains(".precision('float32').reference('h2g')"), report.toString());
			String notification = report.get("notifications").toString();
			assertTrue(notification.contains("DEMO WEIGHTS - not a diagnosis"), "the completion notification: " + notification);
			assertTrue(notification.contains(n + " tumour region(s)"), notification);
			assertTrue(notification.contains("Patch model: float32."), notification);

			JsonObject second = report.getAsJsonObject("second");
			assertEquals(second.get("before").getAsInt(), second.get("after").getAsInt(), "the cancelled run added nothing: " + report);
			assertFalse(second.get("sidecarVersion").getAsString().isBlank(), "the sidecar still answers");
			assertEquals(1, second.get("sidecarStarts").getAsInt(), "cancelling did not kill or restart the sidecar");
			assertTrue(report.get("cancelNotifications").toString().contains("Segmentation cancelled"), report.toString());

			for (String shot : List.of("1-progress.png", "2-result.png", "3-cancelling.png", "4-cancelled.png")) {
				BufferedImage img = ImageIO.read(out.resolve(shot).toFile());
				assertEquals(1600, img.getWidth(), shot);
				assertTrue(distinctColours(img) > 50, shot + " is blank");
			}
		}
	}

	private static int distinctColours(BufferedImage img) {
		var seen = new java.util.HashSet<Integer>();
		for (int y = 0; y < img.getHeight(); y += 7)
			for (int x = 0; x < img.getWidth(); x += 7)
				seen.add(img.getRGB(x, y));
		return seen.size();
	}

	/** An X server of our own on a free display number, stopped afterwards. */
	private record Xvfb(Process process, String name) implements AutoCloseable {
		static Xvfb start() throws Exception {
			for (int n = 90 + (int) (ProcessHandle.current().pid() % 50); n < 200; n++) {
				if (Files.exists(Path.of("/tmp/.X11-unix/X" + n)) || Files.exists(Path.of("/tmp/.X" + n + "-lock")))
					continue;
				Process p = new ProcessBuilder("Xvfb", ":" + n, "-screen", "0", "1600x1000x24", "-nolisten", "tcp")
						.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
				for (int i = 0; i < 100 && p.isAlive(); i++) {
					if (Files.exists(Path.of("/tmp/.X11-unix/X" + n)))
						return new Xvfb(p, ":" + n);
					Thread.sleep(100);
				}
				p.destroyForcibly();
			}
			throw new IllegalStateException("cannot start Xvfb (apt-get install xvfb)");
		}

		@Override
		public void close() throws Exception {
			process.destroy();
			process.waitFor(10, TimeUnit.SECONDS);
		}
	}
}
