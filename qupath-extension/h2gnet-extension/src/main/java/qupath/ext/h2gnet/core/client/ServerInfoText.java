package qupath.ext.h2gnet.core.client;

import qupath.ext.h2gnet.grpc.v1.Limits;
import qupath.ext.h2gnet.grpc.v1.ModelFile;
import qupath.ext.h2gnet.grpc.v1.ModelSetInfo;
import qupath.ext.h2gnet.grpc.v1.ServerInfo;

/** The "Sidecar status" text: where it is, its version, model sets with precision and digests, providers, limits. */
public final class ServerInfoText {

	private ServerInfoText() {
	}

	public static String describe(String connection, ServerInfo info) {
		StringBuilder sb = new StringBuilder();
		sb.append("Connected to the ").append(connection).append('\n');
		sb.append("Version: ").append(info.getVersion()).append('\n');
		sb.append("Execution providers: ").append(String.join(", ", info.getExecutionProvidersList())).append('\n');
		sb.append('\n').append("Model sets:").append('\n');
		if (info.getModelSetsCount() == 0)
			sb.append("  (none installed; start the sidecar with --models DIR)").append('\n');
		for (ModelSetInfo set : info.getModelSetsList()) {
			sb.append("  ").append(set.getName());
			if (!set.getPrecision().isEmpty())
				sb.append(" [").append(set.getPrecision()).append(']');
			if (set.getIsDefault())
				sb.append(" (default)");
			if (set.getDemo())
				sb.append(" - DEMO WEIGHTS: results mean nothing clinically");
			sb.append('\n').append("    ").append(set.getDirectory()).append('\n');
			for (ModelFile f : set.getFilesList())
				sb.append("    ").append(f.getRole()).append(": ").append(f.getFile()).append("  sha256 ").append(f.getSha256()).append('\n');
		}
		Limits limits = info.getLimits();
		sb.append('\n').append("Limits: ").append(limits.getMaxConcurrent()).append(" job(s) at once, ")
				.append(limits.getMaxQueue()).append(" queued");
		if (limits.getRequiresToken())
			sb.append(", token required");
		if (limits.getAllowedRootsCount() > 0)
			sb.append('\n').append("Slides readable by path only inside: ").append(String.join(", ", limits.getAllowedRootsList()));
		return sb.toString();
	}
}
