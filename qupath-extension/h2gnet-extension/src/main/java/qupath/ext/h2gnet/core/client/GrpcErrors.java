package qupath.ext.h2gnet.core.client;

import io.grpc.Metadata;
import io.grpc.Status;

import qupath.ext.h2gnet.core.client.SidecarException.Reason;

/**
 * Turns gRPC status codes into messages a QuPath user can act on. The sidecar's own description is
 * kept (it names the file, the option, the expected value), prefixed with what it means here.
 */
final class GrpcErrors {

	private GrpcErrors() {
	}

	/**
	 * Trailer in which the sidecar names the typed error behind a status (src/server/errors.ts): a model
	 * error ({@code MODEL_NOT_FOUND}, {@code MODEL_DIGEST}...) or a slide error ({@code NO_PIXEL_SIZE}...).
	 */
	static final Metadata.Key<String> ERROR_CODE = Metadata.Key.of("h2gnet-error-code", Metadata.ASCII_STRING_MARSHALLER);

	/** The failed call's status and the sidecar's error code from its trailers. */
	static SidecarException toException(Throwable failure, SidecarAddress address, boolean jobWasRunning) {
		Metadata trailers = Status.trailersFromThrowable(failure);
		String code = trailers == null ? null : trailers.get(ERROR_CODE);
		return toException(Status.fromThrowable(failure), code, address, jobWasRunning);
	}

	/**
	 * @param status        the failed call's status
	 * @param errorCode     the sidecar's {@link #ERROR_CODE} trailer, or null
	 * @param address       where the sidecar was expected
	 * @param jobWasRunning true when the server had already sent events for this call: a broken
	 *                      connection then means the sidecar went away mid-job, not that it was never there
	 */
	static SidecarException toException(Status status, String errorCode, SidecarAddress address, boolean jobWasRunning) {
		String detail = describe(status);
		return switch (status.getCode()) {
			case UNAVAILABLE -> jobWasRunning
					? new SidecarException(Reason.SIDECAR_LOST,
							"The H2G-Net sidecar at " + address + " stopped responding during the job (it may have crashed, run out of memory or been stopped). "
									+ "Run it again; a sidecar started by QuPath is restarted automatically. (" + detail + ")", status.getCause())
					: new SidecarException(Reason.UNREACHABLE,
							"Cannot reach the H2G-Net sidecar at " + address + ": " + detail
									+ ". Check that `h2g serve` is running there, or set the address or launch command in Edit > Preferences > H2G-Net.", status.getCause());
			case UNAUTHENTICATED -> new SidecarException(Reason.UNAUTHENTICATED,
					"The H2G-Net sidecar at " + address + " refused the access token (" + detail + "). "
							+ "Set the token file in Edit > Preferences > H2G-Net to the file the sidecar was started with (--token-file).");
			case PERMISSION_DENIED -> new SidecarException(Reason.PERMISSION_DENIED,
					"The H2G-Net sidecar may not read this slide: " + detail
							+ ". Start it with --allow-root for the slide's folder, or let QuPath send the pixels instead.");
			case NOT_FOUND -> new SidecarException(Reason.NOT_FOUND, "The H2G-Net sidecar could not find it: " + detail);
			case INVALID_ARGUMENT -> new SidecarException(Reason.INVALID_INPUT, "The H2G-Net sidecar refused the request: " + detail);
			case FAILED_PRECONDITION -> failedPrecondition(errorCode, detail);
			case RESOURCE_EXHAUSTED -> new SidecarException(Reason.BUSY,
					"The H2G-Net sidecar is busy (its job queue is full): " + detail + ". Try again when running jobs have finished.");
			case CANCELLED -> new SidecarException(Reason.CANCELLED, "The segmentation was cancelled.");
			case DEADLINE_EXCEEDED -> new SidecarException(Reason.DEADLINE,
					"The segmentation took longer than the allowed time and was stopped (" + detail + ").");
			case UNIMPLEMENTED -> new SidecarException(Reason.UNREACHABLE,
					"The server at " + address + " is not an H2G-Net sidecar (it does not know the H2G-Net service). Check the port.");
			default -> new SidecarException(jobWasRunning ? Reason.OTHER : Reason.UNREACHABLE,
					"H2G-Net sidecar at " + address + " failed (" + status.getCode() + "): " + detail, status.getCause());
		};
	}

	/** FAILED_PRECONDITION is either the models (none usable for this request) or the image (no pixel size). */
	private static SidecarException failedPrecondition(String errorCode, String detail) {
		if (errorCode != null && (errorCode.startsWith("MODEL_") || errorCode.equals("MANIFEST_INVALID")))
			return new SidecarException(Reason.MODELS, "The H2G-Net sidecar has no model set it can use for this job: " + detail);
		if ("NO_PIXEL_SIZE".equals(errorCode))
			return new SidecarException(Reason.NO_PIXEL_SIZE, "The H2G-Net sidecar cannot segment this image: " + detail
					+ ". Set the image's pixel size in QuPath (Image tab) or pass pixelSizeMicrons(...) in scripts.");
		return new SidecarException(Reason.OTHER, "The H2G-Net sidecar cannot run this job: " + detail);
	}

	/**
	 * The most telling text: the root cause's message for transport failures (grpc-java's description
	 * is then just "io exception"; the cause says "Connection refused: /127.0.0.1:1"), else the
	 * sidecar's own description.
	 */
	private static String describe(Status status) {
		String rootMessage = null;
		for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
			if (t.getMessage() != null && !t.getMessage().isBlank())
				rootMessage = t.getMessage();
		}
		String description = status.getDescription();
		boolean generic = description == null || description.isBlank() || description.equalsIgnoreCase("io exception");
		if (!generic)
			return description;
		if (rootMessage != null)
			return rootMessage;
		return status.getCode().toString().toLowerCase().replace('_', ' ');
	}
}
