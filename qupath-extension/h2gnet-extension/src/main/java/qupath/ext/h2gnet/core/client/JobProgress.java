package qupath.ext.h2gnet.core.client;

import qupath.ext.h2gnet.grpc.v1.Progress;

/**
 * Where a job stands, as the sidecar reports it.
 *
 * @param stage          "queued", "opening", "tissue", "patches", "refinement", "polygons" or "done"
 * @param done           units finished in this stage (patches while inferring)
 * @param total          units in this stage, 0 when unknown
 * @param queuePosition  jobs ahead of this one while queued
 * @param elapsedSeconds time since the job started
 * @param etaSeconds     estimated seconds left for the whole job, negative when unknown
 */
public record JobProgress(String stage, long done, long total, int queuePosition, double elapsedSeconds, double etaSeconds) {

	static JobProgress of(Progress p) {
		return new JobProgress(p.getStage(), p.getDone(), p.getTotal(), p.getQueuePosition(), p.getElapsedSeconds(), p.getEtaSeconds());
	}

	/** Share of the current stage that is done, or -1 when unknown. */
	public double fraction() {
		return total > 0 ? Math.min(1.0, (double) done / total) : -1;
	}

	/** One line for progress displays, e.g. "patches 120/400, about 35 s left". */
	public String describe() {
		StringBuilder sb = new StringBuilder(stage);
		if ("queued".equals(stage))
			sb.append(" (").append(queuePosition).append(" ahead)");
		else if (total > 0)
			sb.append(' ').append(done).append('/').append(total);
		if (etaSeconds >= 0)
			sb.append(", about ").append(formatSeconds(etaSeconds)).append(" left");
		return sb.toString();
	}

	static String formatSeconds(double seconds) {
		long s = Math.round(seconds);
		if (s < 60)
			return s + " s";
		if (s < 3600)
			return (s / 60) + " min " + (s % 60) + " s";
		return (s / 3600) + " h " + ((s % 3600) / 60) + " min";
	}
}
