package qupath.ext.h2gnet.ui;

import java.util.List;

import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.Property;
import javafx.beans.property.StringProperty;
import org.controlsfx.control.PropertySheet;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.core.Precision;
import qupath.ext.h2gnet.core.RuleSet;
import qupath.ext.h2gnet.core.sidecar.SidecarSettings;
import qupath.fx.prefs.controlsfx.PropertyItemBuilder;
import qupath.lib.gui.QuPathGUI;
import qupath.lib.gui.prefs.PathPrefs;

/**
 * The extension's persistent preferences (keys {@code h2gnet.*}), shown in Edit > Preferences under
 * "H2G-Net". Scripts that call {@code H2GNet.builder()} without an address use the sidecar set here.
 */
final class H2GNetPreferences {

	static final String CATEGORY = "H2G-Net";
	static final List<String> PROVIDERS = List.of("auto", "cpu", "cuda", "webgpu");

	final StringProperty launchCommand = PathPrefs.createPersistentPreference("h2gnet.sidecar.launchCommand", "h2g serve");
	final StringProperty address = PathPrefs.createPersistentPreference("h2gnet.sidecar.address", "");
	final StringProperty tokenFile = PathPrefs.createPersistentPreference("h2gnet.sidecar.tokenFile", "");
	final StringProperty executionProvider = PathPrefs.createPersistentPreference("h2gnet.executionProvider", "auto");
	final IntegerProperty threads = PathPrefs.createPersistentPreference("h2gnet.threads", 0);
	final StringProperty modelSet = PathPrefs.createPersistentPreference("h2gnet.modelSet", "");
	final StringProperty precision = PathPrefs.createPersistentPreference("h2gnet.precision", Precision.FLOAT32.wireName());
	final StringProperty reference = PathPrefs.createPersistentPreference("h2gnet.reference", RuleSet.FAST.wireName());
	final DoubleProperty tissueThreshold = PathPrefs.createPersistentPreference("h2gnet.tissueThreshold", 0.5);
	final DoubleProperty smoothingMicrons = PathPrefs.createPersistentPreference("h2gnet.smoothingMicrons", 0.0);
	final BooleanProperty liveOverlay = PathPrefs.createPersistentPreference("h2gnet.liveOverlay", true);

	/** The sidecar the preferences describe; read when a job starts, so edits apply to the next job. */
	SidecarSettings sidecarSettings() {
		return new SidecarSettings(address.get(), launchCommand.get(), tokenFile.get(), executionProvider.get(), threads.get());
	}

	/** A builder preset with the segmentation preferences. */
	H2GNet.Builder builder() {
		return H2GNet.builder()
				.modelSet(modelSet.get())
				.precision(precision.get())
				.reference(reference.get())
				.tissueThreshold(tissueThreshold.get())
				.smoothingMicrons(smoothingMicrons.get());
	}

	void addToPreferencePane(QuPathGUI qupath) {
		var items = qupath.getPreferencePane().getPropertySheet().getItems();
		items.add(item(launchCommand, String.class, "Sidecar launch command",
				"Command that starts the sidecar, e.g. 'h2g serve --models /data/h2g-models' or 'node /opt/h2g/bin/h2g.js serve'. "
						+ "QuPath starts it when needed, restarts it if it died and stops it on exit. Leave empty to use the address below."));
		items.add(item(address, String.class, "Sidecar address",
				"host:port of a sidecar that is already running (used when the launch command is empty), e.g. 127.0.0.1:50051."));
		items.add(item(tokenFile, String.class, "Sidecar token file",
				"File with the token of a sidecar started with --token-file (remote sidecars). Empty for none."));
		items.add(choiceItem(executionProvider, PROVIDERS, "Execution provider",
				"Where a launched sidecar runs the networks: cpu, cuda or webgpu (GPU); auto = the sidecar's default."));
		items.add(item(threads, Integer.class, "Inference threads", "Threads per inference call for a launched sidecar; 0 = automatic."));
		items.add(item(modelSet, String.class, "Model set", "Installed model set to use; empty = the sidecar's default."));
		items.add(choiceItem(precision, Precision.wireNames(), "Precision",
				"float32 = the published model as it is (the reference's arithmetic); int8 = the model set's int8 version "
						+ "(faster on CPUs with VNNI), made once on the sidecar's machine with 'h2g models quantize <set> --calibrate <slides...>'."));
		items.add(choiceItem(reference, RuleSet.wireNames(), "Rule set",
				"fast = FastPathology's rules for levels, patches and refinement inputs (the default); fast-exact = FastPathology's "
						+ "also on pyramids whose last level is one small tile (fast then uses a finer level); h2g = this project's earlier rules."));
		items.add(item(tissueThreshold, Double.class, "Tissue threshold",
				"Share of a patch that must be tissue for it to be analysed, in (0, 1]. The reference pipeline uses 0.5."));
		items.add(item(smoothingMicrons, Double.class, "Smoothing (µm)",
				"Smooth the tumour outline by this radius (erode, dilate twice as far, erode). 0 = none, as the reference; the authors' QuPath script used 50."));
		items.add(item(liveOverlay, Boolean.class, "Live heatmap overlay", "Show patch scores on the image while a segmentation runs."));
	}

	private static <T> PropertySheet.Item item(Property<T> property, Class<? extends T> type, String name, String description) {
		return new PropertyItemBuilder<>(property, type).name(name).category(CATEGORY).description(description).build();
	}

	private static PropertySheet.Item choiceItem(Property<String> property, List<String> choices, String name, String description) {
		return new PropertyItemBuilder<>(property, String.class).name(name).category(CATEGORY).description(description)
				.choices(choices).build();
	}
}
