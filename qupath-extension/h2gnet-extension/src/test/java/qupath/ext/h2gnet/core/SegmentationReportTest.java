package qupath.ext.h2gnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SegmentationReportTest {

	private static final SegmentationSummary SUMMARY = new SegmentationSummary(400, 120, 1.5, 10, 0.15, 3, 12.3, Map.of());

	@Test
	void theNotificationSaysWhichPrecisionMadeTheResult() {
		String int8 = new SegmentationReport(List.of(), SUMMARY, true, false, "int8").describe();
		assertTrue(int8.startsWith("3 tumour region(s): 1.50 mm² tumour"), int8);
		assertTrue(int8.endsWith("\nPatch model: int8."), int8);
		assertTrue(new SegmentationReport(List.of(), SUMMARY, true, false, "float32").describe().endsWith("\nPatch model: float32."));
		String unsaid = new SegmentationReport(List.of(), SUMMARY, true, false, "").describe();
		assertFalse(unsaid.contains("Patch model"), unsaid);
		assertEquals(SUMMARY.describe(), unsaid);
	}

	@Test
	void demoWeightsComeFirst() {
		String demo = new SegmentationReport(List.of(), SUMMARY, false, true, "float32").describe();
		assertTrue(demo.startsWith("DEMO WEIGHTS - not a diagnosis"), demo);
		assertTrue(demo.endsWith("Patch model: float32."), demo);
	}
}
