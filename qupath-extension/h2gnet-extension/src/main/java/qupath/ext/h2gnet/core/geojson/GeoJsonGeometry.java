package qupath.ext.h2gnet.core.geojson;

import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.locationtech.jts.geom.Coordinate;
import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.geom.GeometryFactory;
import org.locationtech.jts.geom.LinearRing;
import org.locationtech.jts.geom.GeometryCollection;
import org.locationtech.jts.geom.Polygon;

import qupath.lib.roi.GeometryTools;

/**
 * GeoJSON geometry <-> JTS, for the areal types the sidecar deals in (Polygon, MultiPolygon, and
 * collections of them). Written here rather than pulling in jts-io, which QuPath does not ship.
 * Geometries are made with QuPath's own factory (its precision model: a 0.01 px grid, float
 * coordinates), so QuPath's ROIs take them as they are instead of warning about a foreign model.
 */
public final class GeoJsonGeometry {

	private static final GeometryFactory FACTORY = GeometryTools.getDefaultFactory();

	private GeoJsonGeometry() {
	}

	public static GeometryFactory factory() {
		return FACTORY;
	}

	/** Parses a GeoJSON geometry object. @throws IllegalArgumentException for malformed or non-areal input */
	public static Geometry read(JsonObject geometry) {
		String type = string(geometry, "type");
		return switch (type) {
			case "Polygon" -> polygon(geometry.getAsJsonArray("coordinates"));
			case "MultiPolygon" -> {
				JsonArray polys = geometry.getAsJsonArray("coordinates");
				Polygon[] parts = new Polygon[polys.size()];
				for (int i = 0; i < parts.length; i++)
					parts[i] = polygon(polys.get(i).getAsJsonArray());
				yield FACTORY.createMultiPolygon(parts);
			}
			case "GeometryCollection" -> {
				List<Geometry> parts = new ArrayList<>();
				for (JsonElement g : geometry.getAsJsonArray("geometries"))
					parts.add(read(g.getAsJsonObject()));
				yield FACTORY.buildGeometry(parts);
			}
			default -> throw new IllegalArgumentException("Expected a Polygon or MultiPolygon geometry, got " + type);
		};
	}

	public static Geometry read(String geometryJson) {
		return read(JsonParser.parseString(geometryJson).getAsJsonObject());
	}

	private static Polygon polygon(JsonArray rings) {
		if (rings == null || rings.isEmpty())
			return FACTORY.createPolygon();
		LinearRing shell = ring(rings.get(0).getAsJsonArray());
		LinearRing[] holes = new LinearRing[rings.size() - 1];
		for (int i = 1; i < rings.size(); i++)
			holes[i - 1] = ring(rings.get(i).getAsJsonArray());
		return FACTORY.createPolygon(shell, holes);
	}

	private static LinearRing ring(JsonArray points) {
		List<Coordinate> coords = new ArrayList<>(points.size() + 1);
		for (JsonElement p : points) {
			JsonArray xy = p.getAsJsonArray();
			coords.add(new Coordinate(xy.get(0).getAsDouble(), xy.get(1).getAsDouble()));
		}
		if (!coords.isEmpty() && !coords.get(0).equals2D(coords.get(coords.size() - 1)))
			coords.add(new Coordinate(coords.get(0))); // tolerate unclosed rings
		if (coords.size() < 4)
			throw new IllegalArgumentException("A polygon ring needs at least 3 distinct points, got " + points.size());
		return FACTORY.createLinearRing(coords.toArray(Coordinate[]::new));
	}

	/** Writes the polygonal parts of a geometry as a GeoJSON Polygon or MultiPolygon. */
	public static JsonObject write(Geometry geometry) {
		List<Polygon> polygons = new ArrayList<>();
		collectPolygons(geometry, polygons);
		if (polygons.isEmpty())
			throw new IllegalArgumentException("The region has no area (got " + geometry.getGeometryType() + ")");
		JsonObject json = new JsonObject();
		if (polygons.size() == 1) {
			json.addProperty("type", "Polygon");
			json.add("coordinates", rings(polygons.get(0)));
		} else {
			json.addProperty("type", "MultiPolygon");
			JsonArray all = new JsonArray();
			polygons.forEach(p -> all.add(rings(p)));
			json.add("coordinates", all);
		}
		return json;
	}

	private static void collectPolygons(Geometry g, List<Polygon> out) {
		if (g instanceof Polygon p) {
			if (!p.isEmpty())
				out.add(p);
		} else if (g instanceof GeometryCollection) { // includes MultiPolygon
			for (int i = 0; i < g.getNumGeometries(); i++)
				collectPolygons(g.getGeometryN(i), out);
		}
	}

	private static JsonArray rings(Polygon p) {
		JsonArray rings = new JsonArray();
		rings.add(coordinates(p.getExteriorRing().getCoordinates()));
		for (int i = 0; i < p.getNumInteriorRing(); i++)
			rings.add(coordinates(p.getInteriorRingN(i).getCoordinates()));
		return rings;
	}

	private static JsonArray coordinates(Coordinate[] coords) {
		JsonArray array = new JsonArray();
		for (Coordinate c : coords) {
			JsonArray xy = new JsonArray();
			xy.add(c.x);
			xy.add(c.y);
			array.add(xy);
		}
		return array;
	}

	private static String string(JsonObject o, String key) {
		JsonElement e = o.get(key);
		if (e == null || !e.isJsonPrimitive())
			throw new IllegalArgumentException("GeoJSON geometry without '" + key + "'");
		return e.getAsString();
	}
}
