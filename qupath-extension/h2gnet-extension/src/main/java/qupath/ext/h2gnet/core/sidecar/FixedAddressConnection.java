package qupath.ext.h2gnet.core.sidecar;

import qupath.ext.h2gnet.core.client.SidecarAddress;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.client.SidecarException;

/** A sidecar someone else runs (locally or on a server), at a fixed address. */
public final class FixedAddressConnection implements SidecarConnection {

	private final SidecarAddress address;
	private final SidecarClient.Options options;
	private SidecarClient client;

	public FixedAddressConnection(SidecarAddress address, SidecarClient.Options options) {
		this.address = address;
		this.options = options;
	}

	@Override
	public synchronized SidecarClient client() throws SidecarException {
		if (client == null)
			client = SidecarClient.create(address, options);
		return client;
	}

	@Override
	public String describe() {
		return "sidecar at " + address;
	}

	@Override
	public synchronized void close() {
		if (client != null)
			client.close();
		client = null;
	}
}
