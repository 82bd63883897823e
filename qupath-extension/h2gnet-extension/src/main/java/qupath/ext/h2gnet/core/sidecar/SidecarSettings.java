package qupath.ext.h2gnet.core.sidecar;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import qupath.ext.h2gnet.core.client.SidecarAddress;
import qupath.ext.h2gnet.core.client.SidecarClient;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.client.SidecarException.Reason;

/**
 * What the preferences (or a script) say about the sidecar, turned into a {@link SidecarConnection}.
 * A launch command wins over an address: the extension then owns the sidecar.
 *
 * @param address           host:port of a running sidecar (used when no launch command is set)
 * @param launchCommand     e.g. {@code h2g serve --models /data/h2g-models}; {@code --port 0} is added
 * @param tokenFile         file holding the bearer token of a sidecar started with --token-file, or blank
 * @param executionProvider "cpu", "cuda", "webgpu"; blank or "auto" leaves the sidecar's default
 * @param threads           inference threads for a launched sidecar; 0 leaves the sidecar's default
 */
public record SidecarSettings(String address, String launchCommand, String tokenFile, String executionProvider, int threads) {

	public boolean launches() {
		return launchCommand != null && !launchCommand.isBlank();
	}

	/** The launch command as arguments, with the options the launcher needs added when missing. */
	public List<String> launchArguments() {
		List<String> args = new ArrayList<>(CommandLine.split(launchCommand));
		if (args.isEmpty())
			throw new IllegalArgumentException("The sidecar launch command is empty");
		// The launcher learns the port from READY: always let the sidecar pick a free one.
		if (!hasOption(args, "--port")) {
			args.add("--port");
			args.add("0");
		}
		String provider = executionProvider == null ? "" : executionProvider.strip().toLowerCase(Locale.ROOT);
		if (!provider.isEmpty() && !provider.equals("auto") && !hasOption(args, "--provider")) {
			args.add("--provider");
			args.add(provider);
		}
		if (threads > 0 && !hasOption(args, "--threads")) {
			args.add("--threads");
			args.add(Integer.toString(threads));
		}
		return args;
	}

	private static boolean hasOption(List<String> args, String option) {
		return args.stream().anyMatch(a -> a.equals(option) || a.startsWith(option + "="));
	}

	/** Opens the connection these settings describe. */
	public SidecarConnection open() throws SidecarException {
		SidecarClient.Options options = SidecarClient.Options.defaults().withToken(readToken());
		if (launches()) {
			try {
				return new LaunchedSidecarConnection(new SidecarLauncher(SidecarLauncher.Config.of(launchArguments())), options);
			} catch (IllegalArgumentException e) {
				throw new SidecarException(Reason.LAUNCH_FAILED, e.getMessage());
			}
		}
		if (address == null || address.isBlank())
			throw new SidecarException(Reason.UNREACHABLE,
					"No H2G-Net sidecar is configured. Set a launch command (e.g. h2g serve --models DIR) or the address of a running sidecar in Edit > Preferences > H2G-Net.");
		try {
			return new FixedAddressConnection(SidecarAddress.parse(address), options);
		} catch (IllegalArgumentException e) {
			throw new SidecarException(Reason.UNREACHABLE, e.getMessage() + " (Edit > Preferences > H2G-Net)");
		}
	}

	private String readToken() throws SidecarException {
		if (tokenFile == null || tokenFile.isBlank())
			return null;
		Path path = Path.of(tokenFile.strip());
		try {
			String token = Files.readString(path, StandardCharsets.UTF_8).strip();
			if (token.isEmpty())
				throw new SidecarException(Reason.UNAUTHENTICATED, "The H2G-Net token file " + path + " is empty.");
			return token;
		} catch (IOException e) {
			throw new SidecarException(Reason.UNAUTHENTICATED, "Cannot read the H2G-Net token file " + path + ": " + e.getMessage());
		}
	}
}
