package qupath.ext.h2gnet.core.sidecar;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards the sidecar's stderr (pino JSON lines) to slf4j, so its messages appear in QuPath's log
 * at the right level. Keeps the last lines so a failed start can say why.
 */
final class SidecarLogForwarder implements Runnable {

	private static final Logger sidecarLog = LoggerFactory.getLogger("qupath.ext.h2gnet.sidecar");
	private static final Set<String> HIDDEN_FIELDS = Set.of("level", "time", "pid", "hostname", "msg", "v");
	private static final int KEEP_LINES = 40;

	private final InputStream stream;
	private final Deque<String> recent = new ArrayDeque<>();

	SidecarLogForwarder(InputStream stream) {
		this.stream = stream;
	}

	@Override
	public void run() {
		try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
			String line;
			while ((line = reader.readLine()) != null) {
				if (line.isBlank())
					continue;
				String text = forward(line);
				synchronized (recent) {
					recent.addLast(text);
					if (recent.size() > KEEP_LINES)
						recent.removeFirst();
				}
			}
		} catch (IOException e) {
			sidecarLog.debug("Sidecar log stream closed: {}", e.toString());
		}
	}

	/** The last lines, oldest first, as readable text. */
	List<String> recentLines() {
		synchronized (recent) {
			return new ArrayList<>(recent);
		}
	}

	/** Logs one line; returns its readable form. */
	static String forward(String line) {
		JsonObject json = parseObject(line);
		if (json == null) {
			// Not pino: e.g. Node's own crash output. Worth seeing.
			sidecarLog.warn("{}", line);
			return line;
		}
		String text = describe(json);
		int level = pinoLevel(json.get("level"));
		if (level >= 50)
			sidecarLog.error("{}", text);
		else if (level >= 40)
			sidecarLog.warn("{}", text);
		else if (level >= 30)
			sidecarLog.info("{}", text);
		else if (level >= 20)
			sidecarLog.debug("{}", text);
		else
			sidecarLog.trace("{}", text);
		return text;
	}

	static String describe(JsonObject json) {
		StringBuilder sb = new StringBuilder();
		JsonElement msg = json.get("msg");
		if (msg != null && msg.isJsonPrimitive())
			sb.append(msg.getAsString());
		for (Map.Entry<String, JsonElement> e : json.entrySet()) {
			if (HIDDEN_FIELDS.contains(e.getKey()))
				continue;
			sb.append(sb.isEmpty() ? "" : " ").append(e.getKey()).append('=');
			JsonElement v = e.getValue();
			sb.append(v.isJsonPrimitive() ? v.getAsString() : v.toString());
		}
		return sb.toString();
	}

	/** pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; labels when configured so. */
	static int pinoLevel(JsonElement level) {
		if (level == null || !level.isJsonPrimitive())
			return 30;
		if (level.getAsJsonPrimitive().isNumber())
			return level.getAsInt();
		return switch (level.getAsString().toLowerCase()) {
			case "trace" -> 10;
			case "debug" -> 20;
			case "warn" -> 40;
			case "error" -> 50;
			case "fatal" -> 60;
			default -> 30;
		};
	}

	private static JsonObject parseObject(String line) {
		String s = line.strip();
		if (!s.startsWith("{"))
			return null;
		try {
			JsonElement e = JsonParser.parseString(s);
			return e.isJsonObject() ? e.getAsJsonObject() : null;
		} catch (RuntimeException e) {
			return null;
		}
	}
}
