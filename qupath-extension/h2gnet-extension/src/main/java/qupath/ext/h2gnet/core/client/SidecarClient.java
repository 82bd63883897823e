package qupath.ext.h2gnet.core.client;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.client.SidecarException.Reason;
import qupath.ext.h2gnet.core.pixels.PixelSource;
import qupath.ext.h2gnet.grpc.v1.GetInfoRequest;
import qupath.ext.h2gnet.grpc.v1.PixelSegmentStart;
import qupath.ext.h2gnet.grpc.v1.SegmentEvent;
import qupath.ext.h2gnet.grpc.v1.SegmentRequest;
import qupath.ext.h2gnet.grpc.v1.SegmentationGrpc;
import qupath.ext.h2gnet.grpc.v1.ServerInfo;

/**
 * gRPC client for one sidecar. Whole-slide jobs can take many minutes, so jobs get a long deadline
 * (hours, configurable) and no read time-out: a job ends when it has a result, is cancelled, or the
 * connection breaks. Thread-safe; one client serves any number of concurrent jobs.
 */
public final class SidecarClient implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(SidecarClient.class);

	/** Results can hold big GeoJSON plus an optional mask and heatmap. */
	private static final int MAX_INBOUND_BYTES = 512 * 1024 * 1024;

	/**
	 * @param token              bearer token for a sidecar started with --token-file, or null
	 * @param jobDeadline        the longest a single job may run before it is stopped
	 * @param infoDeadline       deadline for the quick GetInfo call (connection checks)
	 * @param pixelReaderThreads threads reading regions for SegmentPixels
	 */
	public record Options(String token, Duration jobDeadline, Duration infoDeadline, int pixelReaderThreads) {

		public static Options defaults() {
			return new Options(null, Duration.ofHours(24), Duration.ofSeconds(20), 4);
		}

		public Options withToken(String token) {
			return new Options(token, jobDeadline, infoDeadline, pixelReaderThreads);
		}

		public Options withJobDeadline(Duration deadline) {
			return new Options(token, deadline, infoDeadline, pixelReaderThreads);
		}
	}

	private final SidecarAddress address;
	private final Options options;
	private final ManagedChannel channel;
	private final SegmentationGrpc.SegmentationStub asyncStub;
	private final SegmentationGrpc.SegmentationBlockingStub blockingStub;

	private SidecarClient(SidecarAddress address, Options options, ManagedChannel channel) {
		this.address = address;
		this.options = options;
		this.channel = channel;
		this.asyncStub = SegmentationGrpc.newStub(channel);
		this.blockingStub = SegmentationGrpc.newBlockingStub(channel);
	}

	/**
	 * Creates a client; connecting happens lazily on the first call, so an unreachable sidecar is
	 * reported by that call. Only a host name that cannot be resolved fails here.
	 */
	public static SidecarClient create(SidecarAddress address, Options options) throws SidecarException {
		InetSocketAddress socket = new InetSocketAddress(address.host(), address.port());
		if (socket.isUnresolved())
			throw new SidecarException(Reason.UNREACHABLE,
					"Cannot find the host '" + address.host() + "' of the H2G-Net sidecar address " + address
							+ ". Check the address in Edit > Preferences > H2G-Net.");
		// QuPath loads extensions with their own class loader; make sure anything gRPC/netty looks up by
		// name is found in this jar.
		Thread thread = Thread.currentThread();
		ClassLoader previous = thread.getContextClassLoader();
		thread.setContextClassLoader(SidecarClient.class.getClassLoader());
		try {
			// A socket address (not a target string) needs no name-resolver plugins.
			NettyChannelBuilder builder = NettyChannelBuilder.forAddress(socket)
					.overrideAuthority(authority(address))
					.maxInboundMessageSize(MAX_INBOUND_BYTES);
			if (address.tls())
				builder.useTransportSecurity();
			else
				builder.usePlaintext();
			if (options.token() != null && !options.token().isBlank())
				builder.intercept(new BearerTokenInterceptor(options.token().strip()));
			return new SidecarClient(address, options, builder.build());
		} finally {
			thread.setContextClassLoader(previous);
		}
	}

	private static String authority(SidecarAddress address) {
		String host = address.host().contains(":") ? "[" + address.host() + "]" : address.host();
		return host + ":" + address.port();
	}

	public SidecarAddress address() {
		return address;
	}

	/** Version, model sets (with digests), providers and limits; also the quick "is it there?" check. */
	public ServerInfo info() throws SidecarException {
		try {
			return blockingStub.withDeadlineAfter(options.infoDeadline().toMillis(), TimeUnit.MILLISECONDS)
					.getInfo(GetInfoRequest.getDefaultInstance());
		} catch (StatusRuntimeException e) {
			if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED)
				throw new SidecarException(Reason.UNREACHABLE, "The H2G-Net sidecar at " + address + " did not answer within "
						+ options.infoDeadline().toSeconds() + " s. Check the address (and any firewall) in Edit > Preferences > H2G-Net.");
			throw GrpcErrors.toException(e, address, false);
		}
	}

	/** Starts a job where the sidecar reads the slide file itself. */
	public SegmentCall segment(SegmentRequest request, SegmentListener listener) {
		SegmentCall call = new SegmentCall(address);
		SegmentEventHandler events = new SegmentEventHandler(call, listener);
		jobStub().segment(request, new ClientResponseObserver<SegmentRequest, SegmentEvent>() {
			@Override
			public void beforeStart(ClientCallStreamObserver<SegmentRequest> requestStream) {
				call.attach(requestStream);
			}

			@Override
			public void onNext(SegmentEvent event) {
				events.onEvent(event);
			}

			@Override
			public void onError(Throwable t) {
				events.onError(t);
			}

			@Override
			public void onCompleted() {
				events.onCompleted();
			}
		});
		logger.debug("Segment {} started on {}", request.getSlidePath(), address);
		return call;
	}

	/** Starts a job where this client supplies the pixels from {@code source}. */
	public SegmentCall segmentPixels(PixelSegmentStart start, PixelSource source, SegmentListener listener) {
		SegmentCall call = new SegmentCall(address);
		PixelStreamSession session = new PixelStreamSession(call, listener, start, source, options.pixelReaderThreads());
		jobStub().segmentPixels(session);
		session.sendStart();
		logger.debug("SegmentPixels {} started on {}", start.getImage().getName(), address);
		return call;
	}

	private SegmentationGrpc.SegmentationStub jobStub() {
		return asyncStub.withDeadlineAfter(options.jobDeadline().toMillis(), TimeUnit.MILLISECONDS);
	}

	@Override
	public void close() {
		channel.shutdownNow();
		try {
			channel.awaitTermination(2, TimeUnit.SECONDS);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}
}
