package qupath.ext.h2gnet.core.client;

import qupath.ext.h2gnet.grpc.v1.PatchScores;

/**
 * Tumour probabilities of patches finished since the previous batch, for a live heatmap. Cell
 * {@code cells[i]} (row-major, {@code r * cols + c}) covers level-0 pixels
 * {@code [c * patchSize, (c + 1) * patchSize)} horizontally, likewise vertically.
 */
public record PatchScoreBatch(int rows, int cols, double patchSizeLevel0, int[] cells, float[] probabilities) {

	static PatchScoreBatch of(PatchScores p) {
		int[] cells = new int[p.getCellsCount()];
		for (int i = 0; i < cells.length; i++)
			cells[i] = p.getCells(i);
		float[] probs = new float[p.getProbabilitiesCount()];
		for (int i = 0; i < probs.length; i++)
			probs[i] = p.getProbabilities(i);
		return new PatchScoreBatch(p.getRows(), p.getCols(), p.getPatchSizeLevel0(), cells, probs);
	}
}
