package qupath.ext.h2gnet.ui;

import java.util.concurrent.ExecutorService;

import javafx.concurrent.Task;

import qupath.ext.h2gnet.core.client.ServerInfoText;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.sidecar.SharedConnections;
import qupath.ext.h2gnet.core.sidecar.SidecarConnection;
import qupath.fx.dialogs.Dialogs;

/**
 * "Sidecar status": connects (starting the sidecar if it is launched by QuPath) and shows its version,
 * model sets with digests, providers and limits, or what is wrong with the configuration.
 */
final class SidecarStatusCommand {

	private final H2GNetPreferences prefs;
	private final ExecutorService executor;

	SidecarStatusCommand(H2GNetPreferences prefs, ExecutorService executor) {
		this.prefs = prefs;
		this.executor = executor;
	}

	void run() {
		var settings = prefs.sidecarSettings();
		Task<String> task = new Task<>() {
			@Override
			protected String call() throws SidecarException {
				SidecarConnection connection = SharedConnections.forSettings(settings);
				var info = connection.client().info();
				return ServerInfoText.describe(connection.describe(), info);
			}
		};
		task.setOnSucceeded(e -> Dialogs.showPlainMessage("H2G-Net sidecar status", task.getValue()));
		task.setOnFailed(e -> {
			Throwable t = task.getException();
			Dialogs.showErrorNotification("H2G-Net sidecar status", t instanceof SidecarException ? t.getMessage() : String.valueOf(t));
		});
		Dialogs.showInfoNotification("H2G-Net", "Checking the sidecar…");
		executor.execute(task);
	}
}
