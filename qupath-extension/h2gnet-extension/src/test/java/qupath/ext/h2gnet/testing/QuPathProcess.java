package qupath.ext.h2gnet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import qupath.lib.gui.prefs.PathPrefs;

/**
 * Starts the real QuPath ({@code qupath.QuPath}, from the shared jars and QuPath's own third-party
 * libraries) in a process of its own, as a user would: a fresh user directory with the extension jar in
 * its {@code extensions} folder, and preferences and home isolated from the machine's.
 */
public final class QuPathProcess {

	private final Path home;
	private final Path userDirectory;

	/** A fresh QuPath "installation" under {@code root}, with {@code extensionJar} installed. */
	public QuPathProcess(Path root, Path extensionJar) throws Exception {
		this(root, extensionJar, Map.of());
	}

	/** ... and these QuPath preferences (key -> value), e.g. the extension's {@code h2gnet.*} ones. */
	public QuPathProcess(Path root, Path extensionJar, Map<String, String> preferences) throws Exception {
		this.home = Files.createDirectories(root.resolve("home"));
		this.userDirectory = Files.createDirectories(root.resolve("QuPath-user"));
		Path extensions = Files.createDirectories(userDirectory.resolve("extensions"));
		assertTrue(Files.isRegularFile(extensionJar), "extension jar: " + extensionJar);
		Files.copy(extensionJar, extensions.resolve(extensionJar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
		// QuPath finds its user directory (and so the extensions) in its preferences: set it the way
		// QuPath's own "Set user directory" does, in this installation's isolated preference store.
		List<String> main = new ArrayList<>(List.of(QuPathProcess.class.getName() + "$SetPreferences", userDirectory.toString()));
		preferences.forEach((k, v) -> main.add(k + "=" + v));
		Process p = start(main, Map.of(), root.resolve("set-user-directory.log"), true);
		assertTrue(p.waitFor(60, TimeUnit.SECONDS), "setting the user directory timed out");
		assertEquals(0, p.exitValue(), Files.readString(root.resolve("set-user-directory.log")));
	}

	public Path userDirectory() {
		return userDirectory;
	}

	/** {@code java ... qupath.QuPath ARGS}, output to {@code log}. */
	public Process qupath(List<String> args, Map<String, String> env, Path log, String... jvmOptions) throws IOException {
		List<String> command = new ArrayList<>(List.of(jvmOptions));
		command.add("qupath.QuPath");
		command.addAll(args);
		return start(command, env, log, false);
	}

	private Process start(List<String> mainAndArgs, Map<String, String> env, Path log, boolean withTestClasses) throws IOException {
		List<String> cp = new ArrayList<>();
		try (Stream<Path> jars = Files.list(TestEnvironment.qupathDir())) {
			jars.filter(j -> j.toString().endsWith(".jar")).sorted().forEach(j -> cp.add(j.toString()));
		}
		String file = System.getProperty("h2gnet.qupathClasspathFile", "");
		assertTrue(!file.isBlank() && Files.isRegularFile(Path.of(file)), "QuPath's library classpath file: '" + file + "' (scripts/test-java.sh)");
		cp.add(Files.readString(Path.of(file)).strip());
		if (withTestClasses)
			cp.add(System.getProperty("java.class.path")); // this class and its QuPath API, for SetPreferences
		List<String> command = new ArrayList<>(List.of(
				Path.of(System.getProperty("java.home"), "bin", "java").toString(),
				"-Duser.home=" + home, "-Djava.util.prefs.userRoot=" + home.resolve("prefs"),
				"-Xmx2g", // (no java.awt.headless: Java decides from $DISPLAY, as for a user)
				// QuPath's OpenSlide extension on the system's libopenslide (its packaged natives are SciJava's).
				"-Djna.library.path=" + System.getProperty("h2gnet.openslideDir", "/usr/lib/x86_64-linux-gnu"),
				"-cp", String.join(File.pathSeparator, cp)));
		command.addAll(mainAndArgs);
		ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
		pb.environment().putAll(env);
		return pb.start();
	}

	/** Run inside the installation's JVM: sets and saves QuPath's user directory and other preferences. */
	public static final class SetPreferences {
		public static void main(String[] args) {
			PathPrefs.userPathProperty().set(args[0]);
			for (int i = 1; i < args.length; i++) {
				int eq = args[i].indexOf('=');
				PathPrefs.createPersistentPreference(args[i].substring(0, eq), "").set(args[i].substring(eq + 1));
			}
			if (!PathPrefs.savePreferences())
				throw new IllegalStateException("QuPath could not save its preferences");
			System.exit(0);
		}
	}
}
