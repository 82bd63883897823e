// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.gui;

import java.awt.image.BufferedImage;

import javafx.collections.ObservableList;
import javafx.scene.control.Menu;
import javafx.stage.Stage;
import qupath.lib.gui.panes.PreferencePane;
import qupath.lib.gui.viewer.QuPathViewer;
import qupath.lib.images.ImageData;

public class QuPathGUI {

	private QuPathGUI() {
	}

	public Menu getMenu(final String name, final boolean createMenu) {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public ImageData<BufferedImage> getImageData() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public ObservableList<QuPathViewer> getAllViewers() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public PreferencePane getPreferencePane() {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public Stage getStage() {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
