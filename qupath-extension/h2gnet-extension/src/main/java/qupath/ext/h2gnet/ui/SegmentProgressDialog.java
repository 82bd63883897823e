package qupath.ext.h2gnet.ui;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import javafx.application.Platform;
import javafx.geometry.Insets;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressBar;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import javafx.stage.Window;

import qupath.ext.h2gnet.core.client.JobProgress;

/**
 * A small non-modal window with the job's stage, a progress bar, the time left and a Cancel button.
 * Progress comes from gRPC threads; updates are coalesced so the FX thread sees at most one pending.
 */
final class SegmentProgressDialog {

	private final Stage stage = new Stage();
	private final Label title = new Label();
	private final Label status = new Label("Connecting to the sidecar…");
	private final Label note = new Label();
	private final ProgressBar bar = new ProgressBar(ProgressBar.INDETERMINATE_PROGRESS);
	private final Button cancel = new Button("Cancel");
	private final AtomicReference<JobProgress> latest = new AtomicReference<>();
	private final AtomicBoolean updateQueued = new AtomicBoolean();

	SegmentProgressDialog(Window owner, String imageName, Runnable onCancel) {
		title.setText("H2G-Net: " + imageName);
		title.setStyle("-fx-font-weight: bold;");
		note.setWrapText(true);
		bar.setMaxWidth(Double.MAX_VALUE);
		cancel.setOnAction(e -> {
			cancel.setDisable(true);
			status.setText("Cancelling…");
			onCancel.run();
		});
		VBox box = new VBox(8, title, status, bar, note, cancel);
		box.setPadding(new Insets(12));
		box.setPrefWidth(380);
		stage.setTitle("H2G-Net tumour segmentation");
		if (owner != null)
			stage.initOwner(owner);
		stage.setScene(new Scene(box));
		stage.setOnCloseRequest(e -> {
			e.consume(); // closing = cancelling, so a job never runs on unseen
			cancel.fire();
		});
	}

	void show() {
		stage.show();
	}

	void close() {
		stage.close();
	}

	/** From any thread. */
	void progress(JobProgress progress) {
		latest.set(progress);
		if (updateQueued.compareAndSet(false, true)) {
			Platform.runLater(() -> {
				updateQueued.set(false);
				JobProgress p = latest.get();
				if (p == null || cancel.isDisabled())
					return;
				status.setText(p.describe());
				double f = p.fraction();
				bar.setProgress(f >= 0 ? f : ProgressBar.INDETERMINATE_PROGRESS);
			});
		}
	}

	/** From any thread. */
	void message(String text) {
		Platform.runLater(() -> note.setText(text));
	}
}
