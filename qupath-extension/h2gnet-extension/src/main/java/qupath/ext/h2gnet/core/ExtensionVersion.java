package qupath.ext.h2gnet.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** This extension's version (from the build), for provenance in what it writes. */
public final class ExtensionVersion {

	public static final String NAME = "qupath-extension-h2gnet";

	private static final String VERSION = read();

	private ExtensionVersion() {
	}

	public static String get() {
		return VERSION;
	}

	/** "qupath-extension-h2gnet 0.1.0". */
	public static String nameAndVersion() {
		return NAME + " " + VERSION;
	}

	private static String read() {
		try (InputStream in = ExtensionVersion.class.getResourceAsStream("/qupath/ext/h2gnet/extension.properties")) {
			Properties p = new Properties();
			if (in != null)
				p.load(in);
			String v = p.getProperty("version", "");
			return v.isBlank() || v.startsWith("${") ? "unknown" : v;
		} catch (IOException e) {
			return "unknown";
		}
	}
}
