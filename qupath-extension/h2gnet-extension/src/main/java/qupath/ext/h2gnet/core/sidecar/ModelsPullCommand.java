package qupath.ext.h2gnet.core.sidecar;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code h2g models pull} that goes with a sidecar launch command: the same program, with
 * {@code serve ...} replaced by {@code models pull} (so "/usr/bin/node /opt/h2g/bin/h2g.js serve --models x"
 * becomes "/usr/bin/node /opt/h2g/bin/h2g.js models pull"). It installs into the models home that a
 * launched sidecar reads by default.
 */
public final class ModelsPullCommand {

	private ModelsPullCommand() {
	}

	/** @throws IllegalArgumentException when the launch command has no {@code serve} to replace */
	public static List<String> fromLaunchCommand(String launchCommand) {
		List<String> args = CommandLine.split(launchCommand);
		int serve = args.lastIndexOf("serve");
		if (serve < 1)
			throw new IllegalArgumentException("The sidecar launch command '" + (launchCommand == null ? "" : launchCommand.strip())
					+ "' does not run 'h2g ... serve': install the models where the sidecar runs, with 'h2g models pull'.");
		List<String> pull = new ArrayList<>(args.subList(0, serve));
		pull.add("models");
		pull.add("pull");
		return pull;
	}
}
