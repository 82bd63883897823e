package qupath.ext.h2gnet.ui;

import java.awt.AlphaComposite;
import java.awt.Composite;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

import qupath.ext.h2gnet.core.client.PatchScoreBatch;
import qupath.lib.gui.viewer.overlays.PathOverlay;
import qupath.lib.images.ImageData;
import qupath.lib.regions.ImageRegion;

/**
 * Live heatmap of patch tumour scores while a job runs: one pixel per patch in a small image, drawn
 * stretched over the slide (the viewer's graphics are already in image coordinates). Scores arrive on
 * gRPC threads; painting happens on the viewer's thread, so updates swap in under a lock.
 */
final class PatchHeatmapOverlay implements PathOverlay {

	private static final float OPACITY = 0.45f;

	private final Object lock = new Object();
	private BufferedImage cells; // TYPE_INT_ARGB, cols x rows; transparent where no score yet
	private double patchSize;

	/** Adds a batch of scores (called from gRPC threads). */
	void add(PatchScoreBatch batch) {
		synchronized (lock) {
			if (cells == null || cells.getWidth() != batch.cols() || cells.getHeight() != batch.rows()) {
				cells = new BufferedImage(Math.max(1, batch.cols()), Math.max(1, batch.rows()), BufferedImage.TYPE_INT_ARGB);
				patchSize = batch.patchSizeLevel0();
			}
			int n = Math.min(batch.cells().length, batch.probabilities().length);
			for (int i = 0; i < n; i++) {
				int cell = batch.cells()[i];
				int x = cell % batch.cols(), y = cell / batch.cols();
				if (y < cells.getHeight())
					cells.setRGB(x, y, colour(batch.probabilities()[i]));
			}
		}
	}

	/** Blue (0) through yellow to red (1), opaque; the overlay's opacity is applied when drawing. */
	static int colour(float p) {
		float v = Math.max(0f, Math.min(1f, Float.isNaN(p) ? 0f : p));
		int r, g, b;
		if (v < 0.5f) {
			float t = v / 0.5f;
			r = (int) (255 * t);
			g = (int) (255 * t);
			b = (int) (255 * (1 - t));
		} else {
			float t = (v - 0.5f) / 0.5f;
			r = 255;
			g = (int) (255 * (1 - t));
			b = 0;
		}
		return 0xFF000000 | r << 16 | g << 8 | b;
	}

	@Override
	public void paintOverlay(Graphics2D g2d, ImageRegion imageRegion, double downsampleFactor, ImageData<BufferedImage> imageData, boolean paintCompletely) {
		synchronized (lock) {
			if (cells == null)
				return;
			Graphics2D g = (Graphics2D) g2d.create();
			try {
				Composite c = AlphaComposite.getInstance(AlphaComposite.SRC_OVER, OPACITY);
				g.setComposite(c);
				g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
				int w = (int) Math.round(cells.getWidth() * patchSize);
				int h = (int) Math.round(cells.getHeight() * patchSize);
				g.drawImage(cells, 0, 0, w, h, null);
			} finally {
				g.dispose();
			}
		}
	}
}
