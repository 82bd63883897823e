package qupath.ext.h2gnet.core.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.grpc.v1.SegmentEvent;
import qupath.ext.h2gnet.grpc.v1.SegmentResult;

/**
 * Shared by both RPCs: passes progress and patch events to the listener, keeps the result, and
 * completes the call when the server ends the stream.
 */
final class SegmentEventHandler {

	private static final Logger logger = LoggerFactory.getLogger(SegmentEventHandler.class);

	private final SegmentCall call;
	private final SegmentListener listener;
	private volatile SegmentResult result;

	SegmentEventHandler(SegmentCall call, SegmentListener listener) {
		this.call = call;
		this.listener = listener == null ? SegmentListener.NONE : listener;
	}

	/** @return true when this event carried the result */
	boolean onEvent(SegmentEvent event) {
		call.serverMessageSeen();
		try {
			switch (event.getEventCase()) {
				case PROGRESS -> listener.onProgress(JobProgress.of(event.getProgress()));
				case PATCHES -> listener.onPatches(PatchScoreBatch.of(event.getPatches()));
				case RESULT -> {
					result = event.getResult();
					return true;
				}
				default -> logger.debug("Ignoring an unknown event from the sidecar");
			}
		} catch (RuntimeException e) {
			// A faulty listener (e.g. a GUI update) must not break the job.
			logger.warn("Segmentation listener failed: {}", e.toString(), e);
		}
		return false;
	}

	void onCompleted() {
		if (result != null)
			call.succeed(result);
		else
			call.fail(new SidecarException(Reason.OTHER, "The H2G-Net sidecar ended the job without sending a result."));
	}

	void onError(Throwable t) {
		// A result that arrived before a late transport error is still a result.
		if (result != null)
			call.succeed(result);
		else
			call.failWithStatus(t);
	}
}
