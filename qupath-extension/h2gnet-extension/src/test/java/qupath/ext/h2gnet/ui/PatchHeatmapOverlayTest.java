package qupath.ext.h2gnet.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;

import org.junit.jupiter.api.Test;

import qupath.ext.h2gnet.core.client.PatchScoreBatch;

class PatchHeatmapOverlayTest {

	@Test
	void scoresArePaintedOverTheirPatches() {
		PatchHeatmapOverlay overlay = new PatchHeatmapOverlay();
		// 2 x 3 grid of 10 px patches; a tumour-ish score in cell (row 1, col 2) only.
		overlay.add(new PatchScoreBatch(2, 3, 10, new int[] { 5 }, new float[] { 0.95f }));
		BufferedImage canvas = new BufferedImage(30, 20, BufferedImage.TYPE_INT_ARGB);
		Graphics2D g = canvas.createGraphics();
		overlay.paintOverlay(g, null, 1.0, null, true);
		g.dispose();
		assertEquals(0, canvas.getRGB(5, 5) >>> 24, "no score yet: nothing drawn");
		int painted = canvas.getRGB(25, 15);
		assertNotEquals(0, painted >>> 24, "scored patch is drawn");
		assertEquals(255, (painted >> 16) & 0xFF, "high scores are red");
	}

	@Test
	void coloursRunFromBlueToRed() {
		assertEquals(0xFF0000FF, PatchHeatmapOverlay.colour(0f));
		assertEquals(0xFFFF0000, PatchHeatmapOverlay.colour(1f));
		assertEquals(0xFF0000FF, PatchHeatmapOverlay.colour(Float.NaN));
	}
}
