package qupath.ext.h2gnet.core.geojson;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import org.locationtech.jts.geom.Geometry;

/**
 * Reads the sidecar's GeoJSON FeatureCollection into {@link TumourRegion}s: the geometry (JTS), the
 * classification name, {@code properties.metadata} flattened to string pairs ({@code models.patch.sha256})
 * and {@code properties.measurements} (QuPath's object form or the older list form).
 * Metadata on the collection itself, if any, is given to every region (a feature's own entries win).
 */
public final class TumourFeatureReader {

	/** Used when a feature carries no classification: H2G-Net only finds tumour. */
	public static final String DEFAULT_CLASS = "Tumor";

	private TumourFeatureReader() {
	}

	/** Metadata key the sidecar sets to "true" when untrained demo weights made the result. */
	public static final String DEMO_WEIGHTS_KEY = "h2gnet.demo_weights";

	/** Metadata key naming the patch model's arithmetic that made the result ("float32" or "int8"). */
	public static final String PRECISION_KEY = "h2gnet.precision";

	/** Whether the collection's (or any feature's) provenance says demo weights made it. */
	public static boolean demoWeights(String geojson) {
		return "true".equals(collectionMetadata(parse(geojson)).get(DEMO_WEIGHTS_KEY))
				|| read(geojson).stream().anyMatch(r -> "true".equals(r.metadata().get(DEMO_WEIGHTS_KEY)));
	}

	/**
	 * The precision the provenance names (the collection's, which an empty result has too, else the
	 * first feature's), or "" when the sidecar did not say (one older than precision).
	 */
	public static String precision(String geojson) {
		String shared = collectionMetadata(parse(geojson)).get(PRECISION_KEY);
		if (shared != null)
			return shared;
		return read(geojson).stream().map(r -> r.metadata().get(PRECISION_KEY)).filter(v -> v != null).findFirst().orElse("");
	}

	private static Map<String, String> collectionMetadata(JsonObject root) {
		Map<String, String> shared = new LinkedHashMap<>();
		if (root.get("metadata") instanceof JsonObject m)
			flatten(m, "", shared);
		return shared;
	}

	private static JsonObject parse(String geojson) {
		try {
			return JsonParser.parseString(geojson).getAsJsonObject();
		} catch (JsonParseException | IllegalStateException e) {
			throw new IllegalArgumentException("The sidecar's result is not valid GeoJSON: " + e.getMessage(), e);
		}
	}

	public static List<TumourRegion> read(String geojson) {
		JsonObject root = parse(geojson);
		String type = root.has("type") ? root.get("type").getAsString() : "";
		List<JsonObject> features = new ArrayList<>();
		if ("FeatureCollection".equals(type)) {
			JsonArray array = root.getAsJsonArray("features");
			if (array != null)
				array.forEach(f -> features.add(f.getAsJsonObject()));
		} else if ("Feature".equals(type)) {
			features.add(root);
		} else {
			throw new IllegalArgumentException("Expected a GeoJSON FeatureCollection from the sidecar, got type '" + type + "'");
		}

		Map<String, String> shared = collectionMetadata(root);
		if (root.get("properties") instanceof JsonObject p && p.get("metadata") instanceof JsonObject m)
			flatten(m, "", shared);

		List<TumourRegion> regions = new ArrayList<>();
		for (JsonObject feature : features) {
			if (!(feature.get("geometry") instanceof JsonObject geometryJson))
				continue;
			Geometry geometry = GeoJsonGeometry.read(geometryJson);
			if (geometry.isEmpty())
				continue;
			JsonObject props = feature.get("properties") instanceof JsonObject p ? p : new JsonObject();
			Map<String, String> metadata = new LinkedHashMap<>(shared);
			if (props.get("metadata") instanceof JsonObject m)
				flatten(m, "", metadata);
			regions.add(new TumourRegion(geometry, classification(props), metadata, measurements(props)));
		}
		return regions;
	}

	private static String classification(JsonObject props) {
		JsonElement c = props.get("classification");
		if (c instanceof JsonObject o && o.get("name") != null && o.get("name").isJsonPrimitive())
			return o.get("name").getAsString();
		if (c != null && c.isJsonPrimitive())
			return c.getAsString();
		return DEFAULT_CLASS;
	}

	private static Map<String, Double> measurements(JsonObject props) {
		Map<String, Double> out = new LinkedHashMap<>();
		JsonElement m = props.get("measurements");
		if (m instanceof JsonObject o) {
			for (var e : o.entrySet())
				number(e.getValue()).ifPresent(v -> out.put(e.getKey(), v));
		} else if (m instanceof JsonArray a) {
			for (JsonElement item : a) {
				if (item instanceof JsonObject entry && entry.get("name") != null)
					number(entry.get("value")).ifPresent(v -> out.put(entry.get("name").getAsString(), v));
			}
		}
		return out;
	}

	private static Optional<Double> number(JsonElement e) {
		if (e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())
			return Optional.of(e.getAsDouble());
		return Optional.empty();
	}

	/** Nested objects become dotted keys; arrays stay JSON text; strings/numbers/booleans their text. */
	static void flatten(JsonObject object, String prefix, Map<String, String> out) {
		for (var e : object.entrySet()) {
			String key = prefix + e.getKey();
			JsonElement v = e.getValue();
			if (v instanceof JsonObject o)
				flatten(o, key + ".", out);
			else if (v.isJsonPrimitive())
				out.put(key, v.getAsString());
			else if (!v.isJsonNull())
				out.put(key, v.toString());
		}
	}
}
