package qupath.ext.h2gnet.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JobProgressTest {

	@Test
	void describesStageCountsAndTimeLeft() {
		assertEquals("patches 120/400, about 35 s left", new JobProgress("patches", 120, 400, 0, 3, 35).describe());
		assertEquals("queued (2 ahead)", new JobProgress("queued", 0, 0, 2, 0, -1).describe());
		assertEquals("refinement, about 2 min 5 s left", new JobProgress("refinement", 0, 0, 0, 1, 125).describe());
		assertEquals(0.3, new JobProgress("patches", 3, 10, 0, 0, -1).fraction(), 1e-12);
		assertEquals(-1, new JobProgress("tissue", 0, 0, 0, 0, -1).fraction());
		assertEquals("1 h 1 min", JobProgress.formatSeconds(3660));
	}
}
