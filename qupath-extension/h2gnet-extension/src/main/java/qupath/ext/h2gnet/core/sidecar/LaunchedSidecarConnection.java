package qupath.ext.h2gnet.core.sidecar;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.client.SidecarAddress;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;

/**
 * A sidecar this extension starts and owns. Before each job it makes sure the process runs; after a
 * job lost its connection it checks the sidecar and restarts it if it died or no longer answers.
 */
public final class LaunchedSidecarConnection implements SidecarConnection {

	private static final Logger logger = LoggerFactory.getLogger(LaunchedSidecarConnection.class);

	private final SidecarLauncher launcher;
	private final SidecarClient.Options options;
	private SidecarClient client;
	private boolean checkBeforeNextJob;

	public LaunchedSidecarConnection(SidecarLauncher launcher, SidecarClient.Options options) {
		this.launcher = launcher;
		this.options = options;
	}

	public SidecarLauncher launcher() {
		return launcher;
	}

	@Override
	public synchronized SidecarClient client() throws SidecarException {
		if (checkBeforeNextJob) {
			checkBeforeNextJob = false;
			if (launcher.isRunning() && !answers()) {
				logger.warn("The H2G-Net sidecar runs but does not answer; restarting it");
				launcher.restart();
			}
		}
		SidecarAddress address = launcher.ensureRunning();
		if (client == null || !client.address().equals(address)) {
			if (client != null)
				client.close();
			client = SidecarClient.create(address, options);
		}
		return client;
	}

	private boolean answers() {
		try {
			SidecarAddress address = launcher.ensureRunning();
			if (client == null || !client.address().equals(address))
				return true; // a new process; client() connects to it
			client.info();
			return true;
		} catch (SidecarException e) {
			return false;
		}
	}

	@Override
	public synchronized void jobFailed(SidecarException failure) {
		if (failure.reason() == Reason.SIDECAR_LOST || failure.reason() == Reason.UNREACHABLE) {
			// A killed process is reaped asynchronously: give it a moment so the next job sees it gone.
			launcher.awaitExit(Duration.ofSeconds(2));
			checkBeforeNextJob = true;
		}
	}

	@Override
	public String describe() {
		return launcher.isRunning()
				? "sidecar started by QuPath (pid " + launcher.pid().orElse(-1) + ")"
				: "sidecar started by QuPath on demand: " + String.join(" ", launcher.config().command());
	}

	@Override
	public synchronized void close() {
		if (client != null)
			client.close();
		client = null;
		launcher.close();
	}
}
