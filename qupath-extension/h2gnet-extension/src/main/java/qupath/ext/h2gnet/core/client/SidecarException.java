package qupath.ext.h2gnet.core.client;

/**
 * A failure talking to the sidecar, with a message written for the person using QuPath (what went
 * wrong and what to do), and a {@link Reason} for code that wants to react (retry, fall back).
 */
public class SidecarException extends Exception {

	/** What kind of failure this is; independent of gRPC so callers need no gRPC types. */
	public enum Reason {
		/** Nothing answers at the address, or it does not speak H2G-Net's protocol. */
		UNREACHABLE,
		/** The connection broke while a job ran (sidecar crashed, was stopped or killed). */
		SIDECAR_LOST,
		/** The launcher could not start the sidecar or it exited before it was ready. */
		LAUNCH_FAILED,
		/** Missing or wrong token. */
		UNAUTHENTICATED,
		/** The slide is outside the sidecar's allowed folders. */
		PERMISSION_DENIED,
		/** The sidecar cannot find the slide file. */
		NOT_FOUND,
		/** The image or options were refused (unsupported/corrupt slide, bad parameter). */
		INVALID_INPUT,
		/**
		 * The sidecar has no model set it can use for the request: none installed, the named one missing
		 * or damaged, or no sibling of the asked precision (int8: made with {@code h2g models quantize}).
		 */
		MODELS,
		/** The image has no pixel size and none was given. */
		NO_PIXEL_SIZE,
		/** The sidecar's queue is full. */
		BUSY,
		/** The job was cancelled (by the user, or the calling thread was interrupted). */
		CANCELLED,
		/** The job took longer than the configured deadline. */
		DEADLINE,
		/** The client could not read pixels it had to supply. */
		PIXEL_READ_FAILED,
		/** Anything else; the message carries the sidecar's own words. */
		OTHER
	}

	private final Reason reason;

	public SidecarException(Reason reason, String message) {
		super(message);
		this.reason = reason;
	}

	public SidecarException(Reason reason, String message, Throwable cause) {
		super(message, cause);
		this.reason = reason;
	}

	public Reason reason() {
		return reason;
	}
}
