package qupath.ext.h2gnet.core.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ModelsPullCommandTest {

	@Test
	void theLaunchCommandsProgramRunsModelsPull() {
		assertEquals(List.of("h2g", "models", "pull"), ModelsPullCommand.fromLaunchCommand("h2g serve"));
		assertEquals(List.of("/usr/bin/node", "/opt/h 2g/bin/h2g.js", "models", "pull"),
				ModelsPullCommand.fromLaunchCommand("/usr/bin/node '/opt/h 2g/bin/h2g.js' serve --models /data/m --threads 4"));
	}

	@Test
	void aCommandWithoutServeIsRefusedWithAHint() {
		var e = assertThrows(IllegalArgumentException.class, () -> ModelsPullCommand.fromLaunchCommand("my-wrapper.sh"));
		assertTrue(e.getMessage().contains("h2g models pull"), e.getMessage());
		assertThrows(IllegalArgumentException.class, () -> ModelsPullCommand.fromLaunchCommand(""));
	}
}
