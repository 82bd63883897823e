package qupath.ext.h2gnet.core.client;

/**
 * Receives a job's live events. Called on gRPC threads: implementations must be quick and must hand
 * GUI work to the GUI thread themselves.
 */
public interface SegmentListener {

	SegmentListener NONE = new SegmentListener() {
	};

	default void onProgress(JobProgress progress) {
	}

	default void onPatches(PatchScoreBatch patches) {
	}

	/** A note for logs or the progress display, e.g. which way the pixels reach the sidecar. */
	default void onMessage(String message) {
	}
}
