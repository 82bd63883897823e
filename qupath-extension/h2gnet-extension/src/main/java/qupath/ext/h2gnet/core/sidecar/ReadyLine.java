package qupath.ext.h2gnet.core.sidecar;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one stdout line {@code h2g serve} prints once it listens: {@code READY port=<n>}. */
public final class ReadyLine {

	private static final Pattern READY = Pattern.compile("^\\s*READY port=(\\d{1,5})\\s*$");

	private ReadyLine() {
	}

	/** The port, or empty when the line is anything else. */
	public static OptionalInt parse(String line) {
		if (line == null)
			return OptionalInt.empty();
		Matcher m = READY.matcher(line);
		if (!m.matches())
			return OptionalInt.empty();
		int port = Integer.parseInt(m.group(1));
		return port >= 1 && port <= 65535 ? OptionalInt.of(port) : OptionalInt.empty();
	}
}
