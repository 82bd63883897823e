package qupath.ext.h2gnet.core.sidecar;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;

/**
 * One connection per distinct settings, shared by every job in this JVM: a script run over a whole
 * project reuses one launched sidecar instead of starting one per image. The extension registers the
 * preference-backed default here.
 */
public final class SharedConnections {

	private static final Map<SidecarSettings, SidecarConnection> connections = new HashMap<>();
	private static volatile Supplier<SidecarSettings> defaultSettings;

	private SharedConnections() {
	}

	/** Where {@link #forDefaultSettings()} reads its settings from (QuPath's preferences, when the extension runs). */
	public static void setDefaultSettings(Supplier<SidecarSettings> settings) {
		defaultSettings = settings;
	}

	public static synchronized SidecarConnection forSettings(SidecarSettings settings) throws SidecarException {
		SidecarConnection c = connections.get(settings);
		if (c == null) {
			c = settings.open();
			connections.put(settings, c);
		}
		return c;
	}

	public static SidecarConnection forDefaultSettings() throws SidecarException {
		Supplier<SidecarSettings> s = defaultSettings;
		if (s == null)
			throw new SidecarException(Reason.UNREACHABLE,
					"No H2G-Net sidecar is configured here: pass .address(\"host:port\") or .launchCommand(\"h2g serve --models DIR\") to the builder.");
		return forSettings(s.get());
	}

	/** Closes the connection for these settings, stopping its sidecar if it launched one. */
	public static synchronized void close(SidecarSettings settings) {
		SidecarConnection c = connections.remove(settings);
		if (c != null)
			c.close();
	}
}
