package qupath.ext.h2gnet.core.geojson;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.geom.Polygon;

class TumourFeatureReaderTest {

	/** Shaped like `h2g segment` / the sidecar write it (a square with a square hole, and a MultiPolygon). */
	static final String SIDECAR_GEOJSON = """
			{"type":"FeatureCollection","features":[
			 {"type":"Feature","geometry":{"type":"Polygon","coordinates":[
			   [[0,0],[100,0],[100,100],[0,100],[0,0]],
			   [[40,40],[60,40],[60,60],[40,60],[40,40]]]},
			  "properties":{"objectType":"annotation","classification":{"name":"Tumor","color":[200,0,0]},
			   "measurements":{"Area µm^2":2400.0},
			   "metadata":{"h2gnet.patch_model_sha256":"0ac5","h2gnet.param.tissueThreshold":"0.5","h2gnet.models":{"patch":"p.onnx"}}}},
			 {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[
			   [[[200,200],[210,200],[210,210],[200,200]]],
			   [[[300,300],[310,300],[310,310],[300,310]]]]},
			  "properties":{"measurements":[{"name":"Area µm^2","value":12.5}]}}
			]}""";

	@Test
	void readsGeometryClassMetadataAndMeasurements() {
		List<TumourRegion> regions = TumourFeatureReader.read(SIDECAR_GEOJSON);
		assertEquals(2, regions.size());

		TumourRegion first = regions.get(0);
		assertTrue(first.geometry() instanceof Polygon);
		assertEquals(1, ((Polygon) first.geometry()).getNumInteriorRing(), "holes are kept");
		assertEquals(100 * 100 - 20 * 20, first.geometry().getArea(), 1e-9);
		assertEquals("Tumor", first.classification());
		assertEquals("0ac5", first.metadata().get("h2gnet.patch_model_sha256"));
		assertEquals("0.5", first.metadata().get("h2gnet.param.tissueThreshold"));
		assertEquals("p.onnx", first.metadata().get("h2gnet.models.patch"), "nested metadata is flattened");
		assertEquals(2400.0, first.measurements().get("Area µm^2"));

		TumourRegion second = regions.get(1);
		assertEquals(2, second.geometry().getNumGeometries());
		assertEquals(TumourFeatureReader.DEFAULT_CLASS, second.classification());
		assertEquals(12.5, second.measurements().get("Area µm^2"), "QuPath's older list form is read too");
		assertTrue(second.geometry().isValid());
	}

	@Test
	void thePrecisionIsTheCollectionsElseTheFeaturesElseUnsaid() {
		assertEquals("int8", TumourFeatureReader.precision(
				"{\"type\":\"FeatureCollection\",\"features\":[],\"metadata\":{\"h2gnet.precision\":\"int8\"}}"),
				"an empty result still says what made it");
		assertEquals("float32", TumourFeatureReader.precision(SIDECAR_GEOJSON.replace("\"h2gnet.patch_model_sha256\"",
				"\"h2gnet.precision\":\"float32\",\"h2gnet.patch_model_sha256\"")));
		assertEquals("", TumourFeatureReader.precision(SIDECAR_GEOJSON), "a sidecar older than precision says nothing");
	}

	@Test
	void anEmptyResultIsNoRegions() {
		assertTrue(TumourFeatureReader.read("{\"type\":\"FeatureCollection\",\"features\":[]}").isEmpty());
	}

	@Test
	void somethingElseIsRefusedClearly() {
		assertTrue(assertThrows(IllegalArgumentException.class, () -> TumourFeatureReader.read("{\"type\":\"Point\"}"))
				.getMessage().contains("FeatureCollection"));
		assertTrue(assertThrows(IllegalArgumentException.class, () -> TumourFeatureReader.read("not json"))
				.getMessage().contains("not valid GeoJSON"));
	}

	@Test
	void geometryRoundTripsThroughGeoJson() {
		Geometry g = TumourFeatureReader.read(SIDECAR_GEOJSON).get(0).geometry();
		Geometry back = GeoJsonGeometry.read(GeoJsonGeometry.write(g).toString());
		assertTrue(g.equalsExact(back));
		Geometry multi = TumourFeatureReader.read(SIDECAR_GEOJSON).get(1).geometry();
		assertEquals("MultiPolygon", GeoJsonGeometry.write(multi).get("type").getAsString());
		assertTrue(multi.equalsExact(GeoJsonGeometry.read(GeoJsonGeometry.write(multi))));
	}

	@Test
	void frameOffsetMovesBetweenFileAndImage() {
		Geometry g = TumourFeatureReader.read(SIDECAR_GEOJSON).get(0).geometry();
		FrameOffset offset = new FrameOffset(1000, 500);
		Geometry inImage = offset.toImage(g);
		assertEquals(-1000, inImage.getEnvelopeInternal().getMinX(), 1e-9);
		assertEquals(-500, inImage.getEnvelopeInternal().getMinY(), 1e-9);
		assertTrue(offset.toFile(inImage).equalsExact(g, 1e-9));
		assertTrue(FrameOffset.NONE.toImage(g) == g);
	}
}
