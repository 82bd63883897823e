package qupath.ext.h2gnet.core.client;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.google.protobuf.ByteString;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.core.pixels.PixelSource;
import qupath.ext.h2gnet.core.pixels.RgbRegionReader;
import qupath.ext.h2gnet.grpc.v1.PixelClientMessage;
import qupath.ext.h2gnet.grpc.v1.PixelSegmentStart;
import qupath.ext.h2gnet.grpc.v1.PixelServerMessage;
import qupath.ext.h2gnet.grpc.v1.RegionPixels;
import qupath.ext.h2gnet.grpc.v1.RegionRequest;

/**
 * The client side of {@code SegmentPixels}: sends {@code start}, then answers each region request with
 * pixels read on a small pool of threads (so slow image servers overlap), while events flow to the
 * listener. A region that cannot be read is answered with its error, which ends the job; the local
 * read error is what the user then sees, since it says more than the sidecar's echo of it.
 */
final class PixelStreamSession implements ClientResponseObserver<PixelClientMessage, PixelServerMessage> {

	private static final Logger logger = LoggerFactory.getLogger(PixelStreamSession.class);
	private static final AtomicInteger sessionCount = new AtomicInteger();

	private final SegmentCall call;
	private final SegmentEventHandler events;
	private final PixelSegmentStart start;
	private final RgbRegionReader reader;
	private final ExecutorService readers;
	private final Object sendLock = new Object();
	private final AtomicReference<Exception> readFailure = new AtomicReference<>();
	private ClientCallStreamObserver<PixelClientMessage> requests;
	private boolean halfClosed;
	/** Set when the server ended the call; reads still running are then abandoned. */
	private volatile boolean ended;

	PixelStreamSession(SegmentCall call, SegmentListener listener, PixelSegmentStart start, PixelSource source, int readerThreads) {
		this.call = call;
		this.events = new SegmentEventHandler(call, listener);
		this.start = start;
		this.reader = new RgbRegionReader(source);
		int id = sessionCount.incrementAndGet();
		AtomicInteger threadCount = new AtomicInteger();
		this.readers = Executors.newFixedThreadPool(Math.max(1, readerThreads), r -> {
			Thread t = new Thread(r, "h2gnet-pixels-" + id + "-" + threadCount.incrementAndGet());
			t.setDaemon(true);
			return t;
		});
	}

	@Override
	public void beforeStart(ClientCallStreamObserver<PixelClientMessage> requestStream) {
		this.requests = requestStream;
		call.attach(requestStream);
	}

	/** Sends the first message; called right after the call was started. */
	void sendStart() {
		send(PixelClientMessage.newBuilder().setStart(start).build());
	}

	@Override
	public void onNext(PixelServerMessage message) {
		switch (message.getMessageCase()) {
			case REGION_REQUEST -> {
				call.serverMessageSeen();
				RegionRequest request = message.getRegionRequest();
				try {
					readers.execute(() -> answer(request));
				} catch (RejectedExecutionException e) {
					logger.debug("Region request {} after the session ended", request.getId());
				}
			}
			case EVENT -> {
				if (events.onEvent(message.getEvent()))
					halfClose(); // the result is in: nothing more to send
			}
			default -> logger.debug("Ignoring an unknown message from the sidecar");
		}
	}

	private void answer(RegionRequest request) {
		RegionPixels.Builder region = RegionPixels.newBuilder()
				.setId(request.getId())
				.setWidth(request.getWidth())
				.setHeight(request.getHeight());
		try {
			byte[] rgb = reader.read(request.getDownsample(), request.getX(), request.getY(), request.getWidth(), request.getHeight());
			region.setRgb(ByteString.copyFrom(rgb));
		} catch (Exception | OutOfMemoryError e) {
			if (ended || call.isDone()) {
				// Cancelled or failed meanwhile: the read was interrupted on purpose, nobody waits for it.
				logger.debug("Region read abandoned after the job ended: {}", e.toString());
				return;
			}
			String what = String.format("Could not read region x=%d y=%d %dx%d at downsample %s: %s",
					request.getX(), request.getY(), request.getWidth(), request.getHeight(), request.getDownsample(), e);
			logger.warn(what, e);
			readFailure.compareAndSet(null, e instanceof Exception ex ? ex : new RuntimeException(e));
			region.setError(what);
		}
		send(PixelClientMessage.newBuilder().setRegion(region).build());
	}

	private void send(PixelClientMessage message) {
		synchronized (sendLock) {
			if (halfClosed || call.isDone())
				return;
			try {
				requests.onNext(message);
			} catch (RuntimeException e) {
				logger.debug("Could not send to the sidecar (call over): {}", e.toString());
			}
		}
	}

	private void halfClose() {
		synchronized (sendLock) {
			if (halfClosed)
				return;
			halfClosed = true;
			try {
				requests.onCompleted();
			} catch (RuntimeException e) {
				logger.debug("Half-close after the call ended: {}", e.toString());
			}
		}
	}

	@Override
	public void onError(Throwable t) {
		ended = true;
		readers.shutdownNow();
		Exception local = readFailure.get();
		if (local != null)
			call.fail(new SidecarException(Reason.PIXEL_READ_FAILED,
					"QuPath could not read pixels for the H2G-Net sidecar: " + local.getMessage(), local));
		else
			events.onError(t);
	}

	@Override
	public void onCompleted() {
		ended = true;
		readers.shutdownNow();
		halfClose();
		events.onCompleted();
	}
}
