package qupath.ext.h2gnet.core.qupath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import qupath.ext.h2gnet.core.geojson.TumourFeatureReader;
import qupath.ext.h2gnet.core.geojson.TumourRegion;
import qupath.lib.objects.PathObject;

class TumourAnnotationsTest {

	private static final String GEOJSON = """
			{"type":"FeatureCollection","features":[
			 {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[200,0],[200,100],[0,100],[0,0]]]},
			  "properties":{"classification":{"name":"Tumor","color":[200,0,0]},"measurements":{"Area µm^2":5000.0,"Other":1},
			   "metadata":{"h2gnet.patch_model_sha256":"abc","h2gnet.param.smoothingUm":"0"}}}]}""";

	@Test
	void annotationsCarryClassMetadataAndAreaInSquareMicrometres() {
		List<TumourRegion> regions = TumourFeatureReader.read(GEOJSON);
		List<PathObject> objects = TumourAnnotations.create(regions, 0.25, 0.5, "slide file");
		assertEquals(1, objects.size());
		PathObject o = objects.get(0);
		assertTrue(o.isAnnotation());
		assertEquals("Tumor", o.getPathClass().getName());
		assertEquals("abc", o.getMetadata().get("h2gnet.patch_model_sha256"));
		assertEquals("0", o.getMetadata().get("h2gnet.param.smoothingUm"));
		assertEquals("slide file", o.getMetadata().get(TumourAnnotations.SOURCE_METADATA));
		assertEquals(200 * 100 * 0.25 * 0.5, o.getMeasurements().get(TumourAnnotations.AREA_MEASUREMENT).doubleValue(), 1e-9,
				"area recomputed with QuPath's pixel size");
		assertEquals(1.0, o.getMeasurements().get("Other").doubleValue());
		assertEquals(20000, o.getROI().getGeometry().getArea(), 1e-9);
	}

	@Test
	void withoutAPixelSizeTheSidecarsAreaIsKept() {
		PathObject o = TumourAnnotations.create(TumourFeatureReader.read(GEOJSON), Double.NaN, Double.NaN, null).get(0);
		assertEquals(5000.0, o.getMeasurements().get(TumourAnnotations.AREA_MEASUREMENT).doubleValue());
		assertFalse(o.getMetadata().containsKey(TumourAnnotations.SOURCE_METADATA));
	}
}
