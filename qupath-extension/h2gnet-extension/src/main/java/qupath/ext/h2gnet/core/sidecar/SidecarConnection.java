package qupath.ext.h2gnet.core.sidecar;

import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.client.SidecarException;

/**
 * How the extension reaches a sidecar: one it launched itself, or one at a configured address.
 * Jobs ask for a client right before they start, so a launched sidecar that died is started again.
 */
public interface SidecarConnection extends AutoCloseable {

	/** A client for a sidecar that should be up, (re)starting it first when this connection launches it. */
	SidecarClient client() throws SidecarException;

	/**
	 * Tells the connection that a job using its client failed, so it can check the sidecar before the
	 * next job (a launched sidecar is restarted if it died or stopped answering).
	 */
	default void jobFailed(SidecarException failure) {
	}

	/** For status displays: what this connects to. */
	String describe();

	@Override
	void close();
}
