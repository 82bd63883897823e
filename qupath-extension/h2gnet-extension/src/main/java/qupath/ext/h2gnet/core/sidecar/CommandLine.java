package qupath.ext.h2gnet.core.sidecar;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a launch command typed into a preference ({@code h2g serve --models "/my models"}) into
 * arguments, the way a POSIX shell would for quotes and backslashes; nothing else (no variables,
 * no globbing), because the command is run directly, not through a shell.
 */
public final class CommandLine {

	private CommandLine() {
	}

	public static List<String> split(String command) {
		List<String> args = new ArrayList<>();
		if (command == null)
			return args;
		StringBuilder current = new StringBuilder();
		boolean inArg = false;
		char quote = 0;
		for (int i = 0; i < command.length(); i++) {
			char c = command.charAt(i);
			if (quote != 0) {
				if (c == quote)
					quote = 0;
				else if (c == '\\' && quote == '"' && i + 1 < command.length() && "\"\\".indexOf(command.charAt(i + 1)) >= 0)
					current.append(command.charAt(++i));
				else
					current.append(c);
			} else if (c == '\'' || c == '"') {
				quote = c;
				inArg = true;
			} else if (c == '\\' && i + 1 < command.length()) {
				current.append(command.charAt(++i));
				inArg = true;
			} else if (Character.isWhitespace(c)) {
				if (inArg) {
					args.add(current.toString());
					current.setLength(0);
					inArg = false;
				}
			} else {
				current.append(c);
				inArg = true;
			}
		}
		if (quote != 0)
			throw new IllegalArgumentException("Unclosed " + quote + " quote in the sidecar launch command: " + command.strip());
		if (inArg)
			args.add(current.toString());
		return args;
	}
}
