package qupath.ext.h2gnet.core.geojson;

import java.util.ArrayList;
import java.util.List;

import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.geom.Polygonal;
import org.locationtech.jts.geom.util.PolygonExtracter;

/**
 * Shares regions found inside several areas out among those areas, so each piece can become a child of
 * the area it lies in: a region is cut along the areas' borders, and where areas overlap the first one
 * takes the overlap (no piece is counted twice).
 */
public final class RegionsByParent {

	private RegionsByParent() {
	}

	/** @return for each parent (same order), the pieces of the regions inside it */
	public static List<List<TumourRegion>> split(List<TumourRegion> regions, List<Geometry> parents) {
		List<List<TumourRegion>> out = new ArrayList<>(parents.size());
		List<Geometry> exclusive = new ArrayList<>(parents.size());
		Geometry taken = null;
		for (Geometry parent : parents) {
			Geometry own = taken == null ? parent : parent.difference(taken);
			exclusive.add(own);
			taken = taken == null ? parent : taken.union(parent);
			out.add(new ArrayList<>());
		}
		for (TumourRegion region : regions) {
			for (int i = 0; i < parents.size(); i++) {
				Geometry own = exclusive.get(i);
				Geometry g = own.covers(region.geometry()) ? region.geometry() : areal(region.geometry().intersection(own));
				if (g != null && !g.isEmpty() && g.getArea() > 0)
					out.get(i).add(region.withGeometry(g));
				if (g == region.geometry())
					break;
			}
		}
		return out;
	}

	/** The polygonal part of an intersection (which may also hold the lines and points where borders touch). */
	private static Geometry areal(Geometry g) {
		if (g instanceof Polygonal)
			return g;
		var polygons = PolygonExtracter.getPolygons(g);
		return polygons.isEmpty() ? null : g.getFactory().buildGeometry(polygons);
	}
}
