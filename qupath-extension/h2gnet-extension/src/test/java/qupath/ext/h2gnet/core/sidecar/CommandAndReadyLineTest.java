package qupath.ext.h2gnet.core.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

class CommandAndReadyLineTest {

	@Test
	void readyLineGivesThePort() {
		assertEquals(OptionalInt.of(43127), ReadyLine.parse("READY port=43127"));
		assertEquals(OptionalInt.of(1), ReadyLine.parse("READY port=1  "));
		assertEquals(OptionalInt.of(5), ReadyLine.parse("READY port=5\r"));
		assertTrue(ReadyLine.parse("READY port=0").isEmpty());
		assertTrue(ReadyLine.parse("READY port=70000").isEmpty());
		assertTrue(ReadyLine.parse("READY").isEmpty());
		assertTrue(ReadyLine.parse("{\"msg\":\"READY port=5\"}").isEmpty());
		assertTrue(ReadyLine.parse(null).isEmpty());
	}

	@Test
	void commandLineSplitsLikeAShell() {
		assertEquals(List.of("h2g", "serve", "--models", "/data/my models"), CommandLine.split("h2g serve --models \"/data/my models\""));
		assertEquals(List.of("node", "/opt/h2g/bin/h2g.js", "serve"), CommandLine.split("  node   /opt/h2g/bin/h2g.js serve \n"));
		assertEquals(List.of("a b", "c'd", ""), CommandLine.split("'a b' c\\'d \"\""));
		assertEquals(List.of("x\"y"), CommandLine.split("\"x\\\"y\""));
		assertEquals(List.of(), CommandLine.split("   "));
		assertThrows(IllegalArgumentException.class, () -> CommandLine.split("h2g 'serve"));
	}

	@Test
	void settingsAddPortZeroAndChosenProviderAndThreads() {
		var plain = new SidecarSettings("", "h2g serve --models /m", "", "auto", 0);
		assertEquals(List.of("h2g", "serve", "--models", "/m", "--port", "0"), plain.launchArguments());
		var tuned = new SidecarSettings("", "h2g serve --models /m", "", "CUDA", 8);
		assertEquals(List.of("h2g", "serve", "--models", "/m", "--port", "0", "--provider", "cuda", "--threads", "8"), tuned.launchArguments());
		var explicit = new SidecarSettings("", "h2g serve --port=5000 --provider cpu --threads 2", "", "webgpu", 4);
		assertEquals(List.of("h2g", "serve", "--port=5000", "--provider", "cpu", "--threads", "2"), explicit.launchArguments());
		assertTrue(tuned.launches());
		assertTrue(!new SidecarSettings("127.0.0.1:1", " ", "", "", 0).launches());
	}
}
