package qupath.ext.h2gnet.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;

import org.junit.jupiter.api.Test;

import io.grpc.Status;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;

class GrpcErrorsTest {

	private static final SidecarAddress ADDRESS = SidecarAddress.loopback(50051);

	@Test
	void unavailableBeforeTheJobMeansUnreachableAfterMeansLost() {
		Status refused = Status.UNAVAILABLE.withDescription("io exception").withCause(new ConnectException("Connection refused: /127.0.0.1:50051"));
		SidecarException before = GrpcErrors.toException(refused, ADDRESS, false);
		assertEquals(Reason.UNREACHABLE, before.reason());
		assertTrue(before.getMessage().contains("Cannot reach the H2G-Net sidecar at 127.0.0.1:50051: Connection refused"), before.getMessage());
		SidecarException during = GrpcErrors.toException(refused, ADDRESS, true);
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
		assertTrue(map(Status.FAILED_PRECONDITION.withDescription("no pixel size")).getMessage().contains("pixel size"));
		assertEquals(Reason.BUSY, map(Status.RESOURCE_EXHAUSTED.withDescription("queue full")).reason());
		assertEquals(Reason.CANCELLED, map(Status.CANCELLED).reason());
		assertEquals(Reason.DEADLINE, map(Status.DEADLINE_EXCEEDED).reason());
		assertTrue(map(Status.UNIMPLEMENTED).getMessage().contains("not an H2G-Net sidecar"));
	}

	private static SidecarException map(Status status) {
		return GrpcErrors.toException(status, ADDRESS, false);
	}
}
