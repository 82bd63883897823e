package qupath.ext.h2gnet.core.sidecar;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.client.SidecarAddress;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;

/**
 * Starts {@code h2g serve --port 0 ...} as a child process, learns its port from the
 * {@code READY port=<n>} line, forwards its log, starts it again when it has died, and stops it when
 * the JVM (QuPath) exits. One launcher manages at most one process at a time.
 */
public final class SidecarLauncher implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(SidecarLauncher.class);
	private static final AtomicInteger threadCount = new AtomicInteger();
	/** How long a stopping sidecar may drain running jobs before it is killed. */
	private static final Duration STOP_GRACE = Duration.ofSeconds(5);
	/** How long the log thread may take to read a dead sidecar's last lines. */
	private static final Duration LOG_DRAIN = Duration.ofSeconds(2);

	/**
	 * @param command          program and arguments, e.g. {@code [node, /opt/h2g/bin/h2g.js, serve, --port, 0, --models, /m]}
	 * @param workingDirectory null for the current directory
	 * @param environment      variables added to the inherited environment
	 * @param startTimeout     how long to wait for the READY line (models load before it)
	 */
	public record Config(List<String> command, Path workingDirectory, Map<String, String> environment, Duration startTimeout) {

		public Config {
			command = List.copyOf(command);
			environment = environment == null ? Map.of() : Map.copyOf(environment);
			if (command.isEmpty())
				throw new IllegalArgumentException("The sidecar launch command is empty");
		}

		public static Config of(List<String> command) {
			return new Config(command, null, Map.of(), Duration.ofMinutes(2));
		}
	}

	private final Config config;
	/** Volatile so the shutdown hook can read it without the lock a starting thread may hold. */
	private volatile Process process;
	private SidecarLogForwarder logForwarder;
	private SidecarAddress address;
	private int starts;
	private Thread shutdownHook;

	public SidecarLauncher(Config config) {
		this.config = config;
	}

	public Config config() {
		return config;
	}

	/** The address of a running sidecar, starting one if none runs (or the last one died). */
	public synchronized SidecarAddress ensureRunning() throws SidecarException {
		if (process != null && process.isAlive())
			return address;
		if (process != null)
			logger.warn("The H2G-Net sidecar (pid {}) has exited with code {}; starting it again", process.pid(), process.exitValue());
		return start();
	}

	/** Stops the current process (if any) and starts a new one. */
	public synchronized SidecarAddress restart() throws SidecarException {
		stop();
		return start();
	}

	public synchronized boolean isRunning() {
		return process != null && process.isAlive();
	}

	/** The running process's id, for diagnostics (and tests that kill it). */
	public synchronized OptionalLong pid() {
		return process != null && process.isAlive() ? OptionalLong.of(process.pid()) : OptionalLong.empty();
	}

	/** How many times a process was started. */
	public synchronized int starts() {
		return starts;
	}

	/**
	 * Waits up to {@code timeout} for the current process to exit (e.g. after a broken connection, to
	 * tell a crash from a network hiccup). @return true when no process is running afterwards.
	 */
	public boolean awaitExit(Duration timeout) {
		Process p;
		synchronized (this) {
			p = process;
		}
		if (p == null)
			return true;
		try {
			return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return !p.isAlive();
		}
	}

	private SidecarAddress start() throws SidecarException {
		String shown = String.join(" ", config.command());
		ProcessBuilder pb = new ProcessBuilder(config.command());
		if (config.workingDirectory() != null)
			pb.directory(config.workingDirectory().toFile());
		pb.environment().putAll(config.environment());
		Process p;
		try {
			p = pb.start();
		} catch (IOException e) {
			throw new SidecarException(Reason.LAUNCH_FAILED, "Cannot start the H2G-Net sidecar with `" + shown + "`: " + e.getMessage()
					+ ". Set the launch command in Edit > Preferences > H2G-Net (e.g. the full path to h2g, or node /path/to/bin/h2g.js serve --models DIR).", e);
		}
		starts++;
		try {
			p.getOutputStream().close(); // the sidecar reads nothing from stdin
		} catch (IOException e) {
			logger.debug("Closing the sidecar's stdin: {}", e.toString());
		}
		SidecarLogForwarder forwarder = new SidecarLogForwarder(p.getErrorStream());
		Thread logThread = daemon("h2gnet-sidecar-log-", forwarder);
		logThread.start();
		CompletableFuture<Integer> ready = new CompletableFuture<>();
		daemon("h2gnet-sidecar-stdout-", () -> readStdout(p, ready)).start();

		int port;
		try {
			port = ready.get(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
		} catch (TimeoutException e) {
			destroy(p);
			throw new SidecarException(Reason.LAUNCH_FAILED, "The H2G-Net sidecar (`" + shown + "`) did not report READY within "
					+ config.startTimeout().toSeconds() + " s." + lastLog(forwarder, logThread));
		} catch (ExecutionException e) {
			Integer code = exitCode(p);
			destroy(p);
			throw new SidecarException(Reason.LAUNCH_FAILED, "The H2G-Net sidecar (`" + shown + "`) "
					+ (code != null ? "exited with code " + code : "closed its output") + " before it was ready." + lastLog(forwarder, logThread));
		} catch (InterruptedException e) {
			destroy(p);
			Thread.currentThread().interrupt();
			throw new SidecarException(Reason.CANCELLED, "Starting the H2G-Net sidecar was interrupted.", e);
		}
		process = p;
		logForwarder = forwarder;
		address = SidecarAddress.loopback(port);
		registerShutdownHook();
		logger.info("H2G-Net sidecar started (pid {}) on {}", p.pid(), address);
		return address;
	}

	private static void readStdout(Process p, CompletableFuture<Integer> ready) {
		try (BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = reader.readLine()) != null) {
				OptionalInt port = ReadyLine.parse(line);
				if (port.isPresent() && !ready.isDone())
					ready.complete(port.getAsInt());
				else if (!line.isBlank())
					logger.info("sidecar stdout: {}", line);
			}
		} catch (IOException e) {
			logger.debug("Sidecar stdout closed: {}", e.toString());
		}
		ready.completeExceptionally(new IOException("stdout closed"));
	}

	private static Integer exitCode(Process p) {
		try {
			if (p.waitFor(1, TimeUnit.SECONDS))
				return p.exitValue();
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
		return null;
	}

	private static String lastLog(SidecarLogForwarder forwarder, Thread logThread) {
		// The process is gone (or destroyed): its log thread ends at the end of its stderr. Waiting for
		// that, not a fixed moment, keeps the dying process's last lines on a busy machine.
		try {
			logThread.join(LOG_DRAIN.toMillis());
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
		List<String> lines = forwarder.recentLines();
		if (lines.isEmpty())
			return "";
		List<String> tail = lines.subList(Math.max(0, lines.size() - 12), lines.size());
		return " Its last log lines:\n" + String.join("\n", tail);
	}

	/** Stops the sidecar: SIGTERM (it drains running jobs), then a kill after a grace period. */
	public synchronized void stop() {
		if (process == null)
			return;
		logger.info("Stopping the H2G-Net sidecar (pid {})", process.pid());
		destroy(process);
		process = null;
		address = null;
	}

	private static void destroy(Process p) {
		// A wrapper (npx, a shell script) may not pass SIGTERM on: stop its children too.
		List<ProcessHandle> children = p.descendants().toList();
		p.destroy();
		children.forEach(ProcessHandle::destroy);
		try {
			if (!p.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS))
				p.destroyForcibly();
		} catch (InterruptedException e) {
			p.destroyForcibly();
			Thread.currentThread().interrupt();
		}
		children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
	}

	private void registerShutdownHook() {
		if (shutdownHook != null)
			return;
		shutdownHook = new Thread(() -> {
			Process p = process;
			if (p != null && p.isAlive())
				destroy(p);
		}, "h2gnet-sidecar-shutdown");
		Runtime.getRuntime().addShutdownHook(shutdownHook);
	}

	@Override
	public synchronized void close() {
		stop();
		if (shutdownHook != null) {
			try {
				Runtime.getRuntime().removeShutdownHook(shutdownHook);
			} catch (IllegalStateException e) {
				// JVM already shutting down: the hook runs anyway
			}
			shutdownHook = null;
		}
	}

	private static Thread daemon(String prefix, Runnable r) {
		Thread t = new Thread(r, prefix + threadCount.incrementAndGet());
		t.setDaemon(true);
		return t;
	}
}
