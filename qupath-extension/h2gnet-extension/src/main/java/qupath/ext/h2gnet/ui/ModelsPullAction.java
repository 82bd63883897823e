package qupath.ext.h2gnet.ui;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutorService;

import javafx.concurrent.Task;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.sidecar.ModelsPullCommand;
import qupath.fx.dialogs.Dialogs;

/**
 * "Install published models": runs {@code h2g models pull} with the program of the sidecar launch command
 * (FastPathology's folder, FAST's Data Hub, then the GitHub release), its output in QuPath's log and its
 * last lines (source, licence, author, what was installed) in a notification. A running sidecar picks up
 * the new set at its next job.
 */
final class ModelsPullAction {

	private static final Logger logger = LoggerFactory.getLogger("qupath.ext.h2gnet.models");
	private static final String TITLE = "H2G-Net models";

	private final H2GNetPreferences prefs;
	private final ExecutorService executor;

	ModelsPullAction(H2GNetPreferences prefs, ExecutorService executor) {
		this.prefs = prefs;
		this.executor = executor;
	}

	void run() {
		List<String> command;
		try {
			command = ModelsPullCommand.fromLaunchCommand(prefs.launchCommand.get());
		} catch (IllegalArgumentException e) {
			Dialogs.showWarningNotification(TITLE, e.getMessage());
			return;
		}
		Task<String> task = new Task<>() {
			@Override
			protected String call() throws Exception {
				Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
				Deque<String> last = new ArrayDeque<>();
				try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
					for (String line; (line = in.readLine()) != null;) {
						logger.info("{}", line);
						if (!line.isBlank() && last.size() == 6)
							last.removeFirst();
						if (!line.isBlank())
							last.addLast(line.strip());
					}
				} finally {
					if (isCancelled())
						p.destroy();
				}
				int code = p.waitFor();
				String tail = String.join("\n", last);
				if (code != 0)
					throw new IllegalStateException("'" + String.join(" ", command) + "' failed (exit code " + code + "):\n" + tail);
				return tail;
			}
		};
		task.setOnSucceeded(e -> Dialogs.showInfoNotification(TITLE, task.getValue()));
		task.setOnFailed(e -> {
			logger.error("h2g models pull failed", task.getException());
			Dialogs.showErrorNotification(TITLE, String.valueOf(task.getException().getMessage()));
		});
		Dialogs.showInfoNotification(TITLE, "Running: " + String.join(" ", command));
		executor.execute(task);
	}
}
