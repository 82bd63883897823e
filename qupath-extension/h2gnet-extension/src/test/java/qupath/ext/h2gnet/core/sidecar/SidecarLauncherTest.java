package qupath.ext.h2gnet.core.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import qupath.ext.h2gnet.core.client.SidecarAddress;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;

/** The launcher against tiny fake sidecars (shell scripts), so its process handling is tested fast. */
@Timeout(60)
class SidecarLauncherTest {

	@TempDir
	Path dir;

	private SidecarLauncher launcher(String script, Duration timeout) throws IOException {
		Path file = dir.resolve("fake-sidecar.sh");
		Files.writeString(file, "#!/bin/sh\n" + script + "\n");
		return new SidecarLauncher(new SidecarLauncher.Config(List.of("/bin/sh", file.toString()), dir, Map.of("FAKE_VAR", "42"), timeout));
	}

	@Test
	void readsThePortFromTheReadyLineAfterOtherOutput() throws Exception {
		try (var launcher = launcher("""
				echo '{"level":30,"msg":"loading models"}' >&2
				echo 'some banner'
				echo "READY port=4$FAKE_VAR"
				exec sleep 60""", Duration.ofSeconds(20))) {
			assertEquals(SidecarAddress.loopback(442), launcher.ensureRunning());
			assertTrue(launcher.isRunning());
			assertEquals(SidecarAddress.loopback(442), launcher.ensureRunning(), "a running sidecar is reused");
			assertEquals(1, launcher.starts());
		}
	}

	@Test
	void exitingBeforeReadySaysWhyWithTheLastLogLines() throws Exception {
		try (var launcher = launcher("""
				echo '{"level":50,"msg":"model directory /nope does not exist"}' >&2
				exit 3""", Duration.ofSeconds(20))) {
			SidecarException e = assertThrows(SidecarException.class, launcher::ensureRunning);
			assertEquals(Reason.LAUNCH_FAILED, e.reason());
			assertTrue(e.getMessage().contains("exited with code 3"), e.getMessage());
			assertTrue(e.getMessage().contains("model directory /nope does not exist"), e.getMessage());
			assertFalse(launcher.isRunning());
		}
	}

	@Test
	void noReadyLineInTimeIsAFailureAndTheProcessIsStopped() throws Exception {
		try (var launcher = launcher("exec sleep 60", Duration.ofMillis(800))) {
			SidecarException e = assertThrows(SidecarException.class, launcher::ensureRunning);
			assertTrue(e.getMessage().contains("did not report READY"), e.getMessage());
			assertFalse(launcher.isRunning());
		}
	}

	@Test
	void aDeadSidecarIsStartedAgainAndCloseStopsIt() throws Exception {
		var launcher = launcher("""
				echo "READY port=$(( $$ % 60000 + 1 ))"
				exec sleep 60""", Duration.ofSeconds(20));
		launcher.ensureRunning();
		long first = launcher.pid().orElseThrow();
		ProcessHandle.of(first).orElseThrow().destroyForcibly();
		assertTrue(launcher.awaitExit(Duration.ofSeconds(5)));
		launcher.ensureRunning();
		long second = launcher.pid().orElseThrow();
		assertNotEquals(first, second);
		assertEquals(2, launcher.starts());
		launcher.close();
		assertFalse(ProcessHandle.of(second).map(ProcessHandle::isAlive).orElse(false), "close stops the sidecar");
	}

	@Test
	void aCommandThatDoesNotExistIsExplained() {
		var launcher = new SidecarLauncher(SidecarLauncher.Config.of(List.of("/definitely/not/h2g", "serve")));
		SidecarException e = assertThrows(SidecarException.class, launcher::ensureRunning);
		assertTrue(e.getMessage().contains("Cannot start the H2G-Net sidecar with `/definitely/not/h2g serve`"), e.getMessage());
		assertTrue(e.getMessage().contains("Preferences"), e.getMessage());
	}
}
