package qupath.ext.h2gnet.core.client;

import java.util.Locale;

/**
 * Where a sidecar listens. Parsed from what users type into preferences or scripts, so it is lenient
 * about what people paste (surrounding whitespace, a scheme) and strict about what cannot work.
 *
 * @param host host name or IP literal (IPv6 without brackets)
 * @param port TCP port, 1..65535
 * @param tls  true for {@code https://} addresses (a sidecar started with its TLS options)
 */
public record SidecarAddress(String host, int port, boolean tls) {

	public SidecarAddress {
		if (host == null || host.isBlank())
			throw new IllegalArgumentException("The sidecar address has no host name");
		if (port < 1 || port > 65535)
			throw new IllegalArgumentException("The sidecar port must be between 1 and 65535, not " + port);
	}

	/** A plain-text loopback address, as a launched sidecar has. */
	public static SidecarAddress loopback(int port) {
		return new SidecarAddress("127.0.0.1", port, false);
	}

	/**
	 * Parses {@code host:port}, {@code [v6]:port}, optionally with {@code http://}, {@code grpc://} or
	 * {@code https://} in front and a trailing slash.
	 *
	 * @throws IllegalArgumentException with a message that says what a valid address looks like
	 */
	public static SidecarAddress parse(String text) {
		if (text == null || text.strip().isEmpty())
			throw new IllegalArgumentException("No sidecar address given; expected host:port, e.g. 127.0.0.1:50051");
		String s = text.strip();
		boolean tls = false;
		String lower = s.toLowerCase(Locale.ROOT);
		if (lower.startsWith("https://")) {
			tls = true;
			s = s.substring(8);
		} else if (lower.startsWith("http://")) {
			s = s.substring(7);
		} else if (lower.startsWith("grpc://")) {
			s = s.substring(7);
		}
		while (s.endsWith("/"))
			s = s.substring(0, s.length() - 1);
		s = s.strip();

		String host;
		String portText;
		if (s.startsWith("[")) {
			int close = s.indexOf(']');
			if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':')
				throw invalid(text);
			host = s.substring(1, close);
			portText = s.substring(close + 2);
		} else {
			int colon = s.lastIndexOf(':');
			if (colon <= 0 || s.indexOf(':') != colon)
				throw invalid(text);
			host = s.substring(0, colon);
			portText = s.substring(colon + 1);
		}
		if (host.isBlank() || host.chars().anyMatch(Character::isWhitespace))
			throw invalid(text);
		int port;
		try {
			port = Integer.parseInt(portText.strip());
		} catch (NumberFormatException e) {
			throw invalid(text);
		}
		return new SidecarAddress(host, port, tls);
	}

	private static IllegalArgumentException invalid(String text) {
		return new IllegalArgumentException("'" + text.strip() + "' is not a sidecar address; expected host:port, e.g. 127.0.0.1:50051");
	}

	@Override
	public String toString() {
		String h = host.contains(":") ? "[" + host + "]" : host;
		return (tls ? "https://" : "") + h + ":" + port;
	}
}
