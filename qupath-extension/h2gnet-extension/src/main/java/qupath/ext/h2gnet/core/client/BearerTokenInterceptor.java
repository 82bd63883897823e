package qupath.ext.h2gnet.core.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/** Adds {@code authorization: Bearer <token>} to every call, as a sidecar with --token-file requires. */
final class BearerTokenInterceptor implements ClientInterceptor {

	private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

	private final String headerValue;

	BearerTokenInterceptor(String token) {
		this.headerValue = "Bearer " + token;
	}

	@Override
	public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
		return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
			@Override
			public void start(Listener<RespT> responseListener, Metadata headers) {
				headers.put(AUTHORIZATION, headerValue);
				super.start(responseListener, headers);
			}
		};
	}

	@Override
	public String toString() {
		return "BearerTokenInterceptor[token hidden]"; // never log the token
	}
}
