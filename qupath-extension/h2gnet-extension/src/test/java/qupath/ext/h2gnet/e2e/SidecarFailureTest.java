package qupath.ext.h2gnet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.core.ImageInput;
import qupath.ext.h2gnet.core.SegmentationOutcome;
import qupath.ext.h2gnet.core.SourceMode;
import qupath.ext.h2gnet.core.client.JobProgress;
import qupath.ext.h2gnet.core.client.SegmentListener;
import qupath.ext.h2gnet.core.client.SidecarAddress;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.core.geojson.FrameOffset;
import qupath.ext.h2gnet.core.pixels.BufferedImagePixelSource;
import qupath.ext.h2gnet.core.sidecar.FixedAddressConnection;
import qupath.ext.h2gnet.core.sidecar.LaunchedSidecarConnection;
import qupath.ext.h2gnet.core.sidecar.SidecarLauncher;
import qupath.ext.h2gnet.core.sidecar.SidecarSettings;
import qupath.ext.h2gnet.testing.SlowPixelSource;
import qupath.ext.h2gnet.testing.TestEnvironment;

/**
 * Against the real sidecar: cancelling, a sidecar killed mid-job, and connections that cannot work
 * (wrong address, wrong token, unknown host) each end with a message a user can act on, and the next
 * job works.
 */
@Timeout(300)
class SidecarFailureTest {

	private static Path models;
	private static BufferedImagePixelSource pngPixels;

	@BeforeAll
	static void prepare() throws Exception {
		models = TestEnvironment.models("tiny");
		BufferedImage png = ImageIO.read(TestEnvironment.slidePng().toFile());
		pngPixels = new BufferedImagePixelSource("CMU-1-Small-Region.png", png, TestEnvironment.SLIDE_MPP);
	}

	private static LaunchedSidecarConnection launch(String... extra) {
		return new LaunchedSidecarConnection(new SidecarLauncher(SidecarLauncher.Config.of(TestEnvironment.serveCommand(models, extra))),
				SidecarClient.Options.defaults());
	}

	@Test
	void cancellingARunningJobStopsItAndTheNextJobWorks() throws Exception {
		try (LaunchedSidecarConnection sidecar = launch()) {
			SlowPixelSource slow = new SlowPixelSource(pngPixels, 300);
			H2GNet h2g = H2GNet.builder().connection(sidecar).source(SourceMode.PIXELS).build();
			AtomicReference<Throwable> failure = new AtomicReference<>();
			Thread worker = runInBackground(h2g, slow, failure);
			assertTrue(slow.firstRead.await(60, TimeUnit.SECONDS), "the sidecar asked for pixels");
			long t0 = System.nanoTime();
			worker.interrupt(); // what QuPath's task Cancel and stopping a script do
			worker.join(10_000);
			assertFalse(worker.isAlive(), "the job stopped promptly after cancel");
			assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
			SidecarException e = assertInstanceOfSidecar(failure.get());
			assertEquals(Reason.CANCELLED, e.reason());
			int readsAtCancel = slow.reads.get();
			Thread.sleep(1500);
			assertTrue(slow.reads.get() <= readsAtCancel + 4, "no more region requests after cancel");

			// The sidecar freed the job: the next one runs to the end.
			SegmentationOutcome next = H2GNet.builder().connection(sidecar).source(SourceMode.PIXELS).build()
					.run(ImageInput.pixelsOnly(pngPixels), null);
			assertFalse(next.regions().isEmpty());
			assertEquals(1, sidecar.launcher().starts(), "cancelling does not restart the sidecar");
		}
	}

	@Test
	void aSidecarKilledMidJobGivesAClearErrorAndTheNextRunRestartsIt() throws Exception {
		try (LaunchedSidecarConnection sidecar = launch()) {
			SlowPixelSource slow = new SlowPixelSource(pngPixels, 300);
			CountDownLatch started = new CountDownLatch(1);
			SegmentListener listener = new SegmentListener() {
				@Override
				public void onProgress(JobProgress progress) {
					started.countDown();
				}
			};
			H2GNet h2g = H2GNet.builder().connection(sidecar).source(SourceMode.PIXELS).listener(listener).build();
			AtomicReference<Throwable> failure = new AtomicReference<>();
			Thread worker = runInBackground(h2g, slow, failure);
			assertTrue(slow.firstRead.await(60, TimeUnit.SECONDS));
			assertTrue(started.await(10, TimeUnit.SECONDS));
			long pid = sidecar.launcher().pid().orElseThrow();
			ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL: no goodbye
			worker.join(30_000);
			assertFalse(worker.isAlive(), "the job ended when its sidecar died");
			SidecarException e = assertInstanceOfSidecar(failure.get());
			assertEquals(Reason.SIDECAR_LOST, e.reason(), e.getMessage());
			assertTrue(e.getMessage().contains("stopped responding during the job"), e.getMessage());

			SegmentationOutcome next = H2GNet.builder().connection(sidecar).source(SourceMode.SLIDE_FILE).build()
					.run(new ImageInput(pngPixels, TestEnvironment.slide(), FrameOffset.NONE), null);
			assertFalse(next.regions().isEmpty());
			assertEquals(2, sidecar.launcher().starts(), "the launcher started a new sidecar");
			assertTrue(sidecar.launcher().pid().orElseThrow() != pid);
		}
	}

	@Test
	void anAddressWhereNothingListensIsReportedPlainly() throws Exception {
		int port;
		try (ServerSocket s = new ServerSocket(0)) {
			port = s.getLocalPort(); // free now, nothing listens after close
		}
		try (var connection = new FixedAddressConnection(SidecarAddress.parse("127.0.0.1:" + port), SidecarClient.Options.defaults())) {
			SidecarException e = assertThrows(SidecarException.class, () -> connection.client().info());
			assertEquals(Reason.UNREACHABLE, e.reason());
			assertTrue(e.getMessage().startsWith("Cannot reach the H2G-Net sidecar at 127.0.0.1:" + port), e.getMessage());
			assertTrue(e.getMessage().toLowerCase().contains("connection refused"), e.getMessage());
			assertTrue(e.getMessage().contains("Preferences"), e.getMessage());
		}
		SidecarException unknownHost = assertThrows(SidecarException.class,
				() -> new SidecarSettings("no-such-host.invalid:50051", "", "", "", 0).open().client());
		assertTrue(unknownHost.getMessage().contains("Cannot find the host 'no-such-host.invalid'"), unknownHost.getMessage());
		SidecarException notAnAddress = assertThrows(SidecarException.class, () -> new SidecarSettings("localhost", "", "", "", 0).open());
		assertTrue(notAnAddress.getMessage().contains("expected host:port"), notAnAddress.getMessage());
	}

	@Test
	void strayWhitespaceInAnAddressIsIgnoredAndAMissingSlideIsNamed() throws Exception {
		try (LaunchedSidecarConnection launched = launch()) {
			int port = launched.client().address().port();
			SidecarSettings typed = new SidecarSettings("  127.0.0.1:" + port + " \n", "", "", "", 0);
			try (var connection = typed.open()) {
				assertFalse(connection.client().info().getVersion().isBlank());
				Path missing = TestEnvironment.workDir().resolve("no-such-slide.svs");
				SidecarException e = assertThrows(SidecarException.class, () -> H2GNet.builder().connection(connection)
						.source(SourceMode.SLIDE_FILE).build().run(new ImageInput(pngPixels, missing, FrameOffset.NONE), null));
				assertEquals(Reason.NOT_FOUND, e.reason(), e.getMessage());
				assertTrue(e.getMessage().contains("no-such-slide.svs"), e.getMessage());
			}
		}
	}

	@Test
	void aSlideOutsideTheAllowedFoldersIsSentAsPixelsInstead() throws Exception {
		Path elsewhere = Files.createDirectories(TestEnvironment.workDir().resolve("allowed-root"));
		try (LaunchedSidecarConnection sidecar = launch("--allow-root", elsewhere.toString())) {
			ImageInput input = new ImageInput(pngPixels, TestEnvironment.slide(), FrameOffset.NONE);
			SidecarException refused = assertThrows(SidecarException.class,
					() -> H2GNet.builder().connection(sidecar).source(SourceMode.SLIDE_FILE).build().run(input, null));
			assertEquals(Reason.PERMISSION_DENIED, refused.reason(), refused.getMessage());
			assertTrue(refused.getMessage().contains("--allow-root"), refused.getMessage());

			List<String> notes = new CopyOnWriteArrayList<>();
			SegmentListener listener = new SegmentListener() {
				@Override
				public void onMessage(String message) {
					notes.add(message);
				}
			};
			SegmentationOutcome auto = H2GNet.builder().connection(sidecar).listener(listener).build().run(input, null);
			assertFalse(auto.bySlidePath(), "AUTO fell back to sending pixels");
			assertFalse(auto.regions().isEmpty());
			assertTrue(notes.stream().anyMatch(n -> n.contains("QuPath sends the pixels instead")), notes.toString());
		}
	}

	@Test
	void aWrongOrMissingTokenIsRefusedWithAnExplanation() throws Exception {
		Path tokenFile = TestEnvironment.workDir().resolve("token.txt");
		Files.writeString(tokenFile, "correct-horse-battery-staple\n");
		Path wrongFile = TestEnvironment.workDir().resolve("wrong-token.txt");
		Files.writeString(wrongFile, "not-the-token");
		try (LaunchedSidecarConnection secured = launch("--token-file", tokenFile.toString())) {
			int port = secured.launcher().ensureRunning().port();
			String address = "127.0.0.1:" + port;

			for (String file : new String[] { wrongFile.toString(), "" }) {
				try (var connection = new SidecarSettings(address, "", file, "", 0).open()) {
					SidecarException e = assertThrows(SidecarException.class, () -> connection.client().info());
					assertEquals(Reason.UNAUTHENTICATED, e.reason());
					assertTrue(e.getMessage().contains("refused the access token"), e.getMessage());
					assertTrue(e.getMessage().contains("token file"), e.getMessage());
					assertFalse(e.getMessage().contains("not-the-token"), "never echo the token");
				}
			}
			try (var connection = new SidecarSettings(address, "", tokenFile.toString(), "", 0).open()) {
				assertFalse(connection.client().info().getVersion().isBlank());
				SegmentationOutcome ok = H2GNet.builder().connection(connection).source(SourceMode.SLIDE_FILE).build()
						.run(new ImageInput(pngPixels, TestEnvironment.slide(), FrameOffset.NONE), null);
				assertFalse(ok.regions().isEmpty());
			}
		}
	}

	@Test
	void aLaunchCommandThatFailsSaysWhy() throws Exception {
		// A real mistake: listening on all interfaces without a token, which h2g serve refuses.
		var bad = new SidecarLauncher(SidecarLauncher.Config.of(TestEnvironment.serveCommand(models, "--host", "0.0.0.0")));
		try (var connection = new LaunchedSidecarConnection(bad, SidecarClient.Options.defaults())) {
			SidecarException e = assertThrows(SidecarException.class, connection::client);
			assertEquals(Reason.LAUNCH_FAILED, e.reason());
			assertTrue(e.getMessage().contains("exited with code"), e.getMessage());
			assertTrue(e.getMessage().contains("last log lines"), e.getMessage());
		}
		var missing = new SidecarLauncher(SidecarLauncher.Config.of(List.of("/no/such/h2g", "serve")));
		try (var connection = new LaunchedSidecarConnection(missing, SidecarClient.Options.defaults())) {
			SidecarException e = assertThrows(SidecarException.class, connection::client);
			assertEquals(Reason.LAUNCH_FAILED, e.reason());
			assertTrue(e.getMessage().contains("Cannot start the H2G-Net sidecar"), e.getMessage());
		}
	}

	/** Runs the job on a thread of its own (as QuPath's task does), keeping what it throws. */
	private static Thread runInBackground(H2GNet h2g, SlowPixelSource pixels, AtomicReference<Throwable> failure) {
		Thread worker = new Thread(() -> {
			try {
				h2g.run(ImageInput.pixelsOnly(pixels), null);
			} catch (Throwable t) {
				failure.set(t);
			}
		});
		worker.start();
		return worker;
	}

	private static SidecarException assertInstanceOfSidecar(Throwable t) {
		assertTrue(t instanceof SidecarException, "expected a SidecarException, got " + t);
		return (SidecarException) t;
	}
}
