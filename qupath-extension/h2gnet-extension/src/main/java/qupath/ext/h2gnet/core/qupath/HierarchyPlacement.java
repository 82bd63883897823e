package qupath.ext.h2gnet.core.qupath;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import qupath.lib.objects.PathObject;
import qupath.lib.objects.hierarchy.PathObjectHierarchy;

/**
 * Where new tumour annotations go in QuPath's object hierarchy, with one update event per run:
 * whole-image results at the root, results found inside annotations as children of those annotations.
 * ({@code addObjects} alone would put everything at the root: QuPath files objects under the object
 * that contains them only when asked to.)
 */
public final class HierarchyPlacement {

	private HierarchyPlacement() {
	}

	/** @return the objects added */
	public static List<PathObject> addAtRoot(PathObjectHierarchy hierarchy, List<PathObject> objects) {
		if (!objects.isEmpty())
			hierarchy.addObjects(objects);
		return List.copyOf(objects);
	}

	/**
	 * Adds each parent's children below it. A parent that is not in this hierarchy (an object a script
	 * made) cannot take children here: its objects are inserted where QuPath's containment rule puts them.
	 * @return every object added
	 */
	public static List<PathObject> addBelow(PathObjectHierarchy hierarchy, Map<PathObject, List<PathObject>> childrenByParent) {
		List<PathObject> added = new ArrayList<>();
		List<PathObject> orphans = new ArrayList<>();
		for (var e : childrenByParent.entrySet()) {
			PathObject parent = e.getKey();
			if (!isIn(hierarchy, parent)) {
				orphans.addAll(e.getValue());
				continue;
			}
			for (PathObject child : e.getValue())
				hierarchy.addObjectBelowParent(parent, child, false);
			added.addAll(e.getValue());
		}
		if (!orphans.isEmpty()) {
			hierarchy.insertPathObjects(orphans);
			added.addAll(orphans);
		} else if (!added.isEmpty()) {
			hierarchy.fireHierarchyChangedEvent(HierarchyPlacement.class);
		}
		return List.copyOf(added);
	}

	private static boolean isIn(PathObjectHierarchy hierarchy, PathObject object) {
		PathObject p = object;
		while (p.getParent() != null)
			p = p.getParent();
		return p == hierarchy.getRootObject();
	}
}
