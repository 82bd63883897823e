package qupath.ext.h2gnet.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;

import org.junit.jupiter.api.Test;

import io.grpc.Metadata;
import io.grpc.Status;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;

class GrpcErrorsTest {

	private static final SidecarAddress ADDRESS = SidecarAddress.loopback(50051);

	@Test
	void unavailableBeforeTheJobMeansUnreachableAfterMeansLost() {
		Status refused = Status.UNAVAILABLE.withDescription("io exception").withCause(new ConnectException("Connection refused: /127.0.0.1:50051"));
		SidecarException before = GrpcErrors.toException(refused, null, ADDRESS, false);
		assertEquals(Reason.UNREACHABLE, before.reason());
		assertTrue(before.getMessage().contains("Cannot reach the H2G-Net sidecar at 127.0.0.1:50051: Connection refused"), before.getMessage());
		SidecarException during = GrpcErrors.toException(refused, null, ADDRESS, true);
		assertEquals(Reason.SIDECAR_LOST, during.reason());
		assertTrue(during.getMessage().contains("stopped responding during the job"));
	}

	@Test
	void eachRefusalSaysWhatToDo() {
		assertEquals(Reason.UNAUTHENTICATED, map(Status.UNAUTHENTICATED.withDescription("wrong token")).reason());
		assertTrue(map(Status.UNAUTHENTICATED).getMessage().contains("token file"));
		assertTrue(map(Status.PERMISSION_DENIED.withDescription("/x is outside")).getMessage().contains("--allow-root"));
		assertEquals(Reason.NOT_FOUND, map(Status.NOT_FOUND.withDescription("no such file: /a.svs")).reason());
		assertTrue(map(Status.NOT_FOUND.withDescription("no such file: /a.svs")).getMessage().contains("/a.svs"));
		assertEquals(Reason.INVALID_INPUT, map(Status.INVALID_ARGUMENT.withDescription("corrupt")).reason());
		assertEquals(Reason.BUSY, map(Status.RESOURCE_EXHAUSTED.withDescription("queue full")).reason());
		assertEquals(Reason.CANCELLED, map(Status.CANCELLED).reason());
		assertEquals(Reason.DEADLINE, map(Status.DEADLINE_EXCEEDED).reason());
		assertTrue(map(Status.UNIMPLEMENTED).getMessage().contains("not an H2G-Net sidecar"));
	}

	@Test
	void failedPreconditionIsTheModelsOrThePixelSizeAsTheTrailerSays() {
		String noInt8 = "no int8 model set made from 'tiny' is installed in /home/u/.cache/h2gnet/models; make one with "
				+ "h2g models quantize tiny --calibrate <slides...> (a few of your own slides)";
		SidecarException models = fromTrailer(Status.FAILED_PRECONDITION.withDescription(noInt8), "MODEL_NOT_FOUND");
		assertEquals(Reason.MODELS, models.reason());
		assertTrue(models.getMessage().contains("h2g models quantize tiny"), models.getMessage());
		assertFalse(models.getMessage().contains("pixel size"), "no pixel-size advice for a missing model set: " + models.getMessage());
		assertEquals(Reason.MODELS, fromTrailer(Status.FAILED_PRECONDITION.withDescription("bad manifest"), "MANIFEST_INVALID").reason());

		SidecarException pixels = fromTrailer(Status.FAILED_PRECONDITION.withDescription("the slide has no pixel size"), "NO_PIXEL_SIZE");
		assertEquals(Reason.NO_PIXEL_SIZE, pixels.reason());
		assertTrue(pixels.getMessage().contains("pixelSizeMicrons("), pixels.getMessage());

		// A sidecar that sends no trailer: its own words, no guessing.
		SidecarException unsaid = map(Status.FAILED_PRECONDITION.withDescription("something"));
		assertEquals(Reason.OTHER, unsaid.reason());
		assertTrue(unsaid.getMessage().endsWith(": something"), unsaid.getMessage());
	}

	/** A failure as grpc-java delivers it: the status with the sidecar's trailers. */
	private static SidecarException fromTrailer(Status status, String errorCode) {
		Metadata trailers = new Metadata();
		trailers.put(GrpcErrors.ERROR_CODE, errorCode);
		return GrpcErrors.toException(status.asRuntimeException(trailers), ADDRESS, false);
	}

	private static SidecarException map(Status status) {
		return GrpcErrors.toException(status.asRuntimeException(), ADDRESS, false);
	}
}
