package qupath.ext.h2gnet.ui;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javafx.scene.control.Menu;
import javafx.scene.control.MenuItem;
import javafx.scene.control.SeparatorMenuItem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.sidecar.SharedConnections;
import qupath.ext.h2gnet.core.sidecar.SidecarSettings;
import qupath.lib.common.ThreadTools;
import qupath.lib.common.Version;
import qupath.lib.gui.QuPathGUI;
import qupath.lib.gui.extensions.QuPathExtension;

/**
 * Registers the H2G-Net menu, preferences and the preference-backed default sidecar that scripts use.
 * The work itself is in the GUI-free {@code core} package.
 */
public class H2GNetExtension implements QuPathExtension {

	private static final Logger logger = LoggerFactory.getLogger(H2GNetExtension.class);

	private boolean installed;

	@Override
	public void installExtension(QuPathGUI qupath) {
		if (installed)
			return;
		installed = true;

		H2GNetPreferences prefs = new H2GNetPreferences();
		prefs.addToPreferencePane(qupath);
		SharedConnections.setDefaultSettings(prefs::sidecarSettings);
		stopOldSidecarWhenSettingsChange(prefs);

		ExecutorService executor = Executors.newCachedThreadPool(ThreadTools.createThreadFactory("h2gnet-", true));
		var whole = new SegmentTumourCommand(qupath, prefs, executor, false);
		var inside = new SegmentTumourCommand(qupath, prefs, executor, true);
		var status = new SidecarStatusCommand(prefs, executor);
		var export = new ExportTrainingDataCommand(qupath, executor);
		var pull = new ModelsPullAction(prefs, executor);

		Menu menu = qupath.getMenu("Extensions>" + getName(), true);
		menu.getItems().addAll(
				item("Segment tumour (whole image)", whole::run),
				item("Segment tumour (selected annotations)", inside::run),
				new SeparatorMenuItem(),
				item("Export training data…", export::run),
				new SeparatorMenuItem(),
				item("Sidecar status", status::run),
				item("Install published models (h2g models pull)", pull::run));
		logger.info("H2G-Net extension installed");
	}

	/**
	 * QuPath 0.7 calls this when it runs scripts without a GUI ({@code QuPath script ...}); 0.6 never
	 * does (hence no {@code @Override}). Scripts then use the sidecar from the saved preferences too.
	 */
	public void installHeadless() {
		try {
			H2GNetPreferences prefs = new H2GNetPreferences();
			SharedConnections.setDefaultSettings(prefs::sidecarSettings);
		} catch (RuntimeException | LinkageError e) {
			logger.warn("H2G-Net: preferences unavailable without the GUI ({}); scripts must pass .launchCommand(...) or .address(...)", e.toString());
		}
	}

	/** A launched sidecar whose command was edited is stopped; the next job starts the new one. */
	private static void stopOldSidecarWhenSettingsChange(H2GNetPreferences prefs) {
		SidecarSettings[] current = { prefs.sidecarSettings() };
		Runnable onChange = () -> {
			SidecarSettings now = prefs.sidecarSettings();
			if (!now.equals(current[0])) {
				SharedConnections.close(current[0]);
				current[0] = now;
			}
		};
		prefs.launchCommand.addListener((v, o, n) -> onChange.run());
		prefs.address.addListener((v, o, n) -> onChange.run());
		prefs.tokenFile.addListener((v, o, n) -> onChange.run());
		prefs.executionProvider.addListener((v, o, n) -> onChange.run());
		prefs.threads.addListener((v, o, n) -> onChange.run());
	}

	private static MenuItem item(String text, Runnable action) {
		MenuItem item = new MenuItem(text);
		item.setOnAction(e -> action.run());
		return item;
	}

	/** The QuPath this extension is built and tested against (it is also tested inside 0.7.0). */
	@Override
	public Version getQuPathVersion() {
		return Version.parse("0.6.0");
	}

	@Override
	public String getName() {
		return "H2G-Net";
	}

	@Override
	public String getDescription() {
		return "Breast tumour segmentation in whole-slide H&E images with H2G-Net, run by the h2g sidecar.";
	}
}
