package qupath.ext.h2gnet.core.client;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;

import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.grpc.v1.SegmentResult;

/**
 * A running segmentation job: wait for its result, or cancel it. Cancelling (or interrupting the
 * thread that waits) cancels the gRPC call, which makes the sidecar stop the job within one batch.
 */
public final class SegmentCall {

	private final SidecarAddress address;
	private final CompletableFuture<SegmentResult> future = new CompletableFuture<>();
	private volatile ClientCallStreamObserver<?> requestStream;
	private volatile boolean cancelRequested;
	private volatile boolean sawServerMessage;

	SegmentCall(SidecarAddress address) {
		this.address = address;
	}

	/** Stops the job. Safe to call at any time, from any thread, more than once. */
	public void cancel() {
		cancelRequested = true;
		var stream = requestStream;
		if (stream != null)
			stream.cancel("Cancelled by the client", null);
		future.completeExceptionally(new SidecarException(Reason.CANCELLED, "The segmentation was cancelled."));
	}

	public boolean isDone() {
		return future.isDone();
	}

	/**
	 * Waits for the result. If the waiting thread is interrupted (QuPath's "Cancel" on a task, or a
	 * script run being stopped) the job is cancelled.
	 */
	public SegmentResult await() throws SidecarException {
		try {
			return future.get();
		} catch (InterruptedException e) {
			throw cancelledBy(e);
		} catch (ExecutionException e) {
			throw unwrap(e);
		}
	}

	/** Like {@link #await()} but gives up waiting (without cancelling) after {@code timeout}. */
	public SegmentResult await(Duration timeout) throws SidecarException, TimeoutException {
		try {
			return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
		} catch (InterruptedException e) {
			throw cancelledBy(e);
		} catch (ExecutionException e) {
			throw unwrap(e);
		}
	}

	/** An interrupted wait cancels the job, keeps the thread's interrupt flag, and says so. */
	private SidecarException cancelledBy(InterruptedException e) {
		cancel();
		Thread.currentThread().interrupt();
		return new SidecarException(Reason.CANCELLED, "The segmentation was cancelled.", e);
	}

	/** The result future, for callers that compose asynchronously. */
	public CompletableFuture<SegmentResult> future() {
		return future;
	}

	private static SidecarException unwrap(ExecutionException e) {
		if (e.getCause() instanceof SidecarException se)
			return se;
		return new SidecarException(Reason.OTHER, "Segmentation failed: " + e.getCause(), e.getCause());
	}

	// --- called by the stream observers ---

	void attach(ClientCallStreamObserver<?> stream) {
		this.requestStream = stream;
		if (cancelRequested)
			stream.cancel("Cancelled by the client", null);
	}

	void serverMessageSeen() {
		sawServerMessage = true;
	}

	void succeed(SegmentResult result) {
		future.complete(result);
	}

	void fail(SidecarException e) {
		future.completeExceptionally(e);
	}

	void failWithStatus(Throwable t) {
		Status status = Status.fromThrowable(t);
		if (cancelRequested && status.getCode() == Status.Code.CANCELLED)
			fail(new SidecarException(Reason.CANCELLED, "The segmentation was cancelled."));
		else
			fail(GrpcErrors.toException(t, address, sawServerMessage));
	}
}
