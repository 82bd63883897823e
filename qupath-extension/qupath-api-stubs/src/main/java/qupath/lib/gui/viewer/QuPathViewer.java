// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.gui.viewer;

import java.awt.image.BufferedImage;

import javafx.collections.ObservableList;
import qupath.lib.gui.viewer.overlays.PathOverlay;
import qupath.lib.images.ImageData;

public class QuPathViewer {

	public ImageData<BufferedImage> getImageData() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public ObservableList<PathOverlay> getCustomOverlayLayers() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public void repaint() {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
