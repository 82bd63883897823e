package qupath.ext.h2gnet.ui;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

import javafx.application.Platform;
import javafx.concurrent.Task;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.H2GNet;
import qupath.ext.h2gnet.core.SegmentationReport;
import qupath.ext.h2gnet.core.client.JobProgress;
import qupath.ext.h2gnet.core.client.PatchScoreBatch;
import qupath.ext.h2gnet.core.client.SegmentListener;
import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.fx.dialogs.Dialogs;
import qupath.lib.gui.QuPathGUI;
import qupath.lib.gui.viewer.QuPathViewer;
import qupath.lib.images.ImageData;
import qupath.lib.objects.PathObject;

/**
 * The two "Segment tumour" menu commands: run {@link H2GNet} on the current image in the background,
 * with a progress window, a live heatmap and a notification at the end; record the script call in the
 * image's workflow so "Create script" / "Run for project" repeat it.
 */
final class SegmentTumourCommand {

	private static final Logger logger = LoggerFactory.getLogger(SegmentTumourCommand.class);
	private static final String TITLE = "H2G-Net";

	private final QuPathGUI qupath;
	private final H2GNetPreferences prefs;
	private final ExecutorService executor;
	private final boolean insideSelection;

	SegmentTumourCommand(QuPathGUI qupath, H2GNetPreferences prefs, ExecutorService executor, boolean insideSelection) {
		this.qupath = qupath;
		this.prefs = prefs;
		this.executor = executor;
		this.insideSelection = insideSelection;
	}

	void run() {
		ImageData<BufferedImage> imageData = qupath.getImageData();
		if (imageData == null) {
			Dialogs.showWarningNotification(TITLE, "Open an image first.");
			return;
		}
		List<PathObject> annotations = null;
		if (insideSelection) {
			annotations = imageData.getHierarchy().getSelectionModel().getSelectedObjects().stream()
					.filter(PathObject::isAnnotation).toList();
			if (annotations.isEmpty()) {
				Dialogs.showWarningNotification(TITLE, "Select one or more annotations to segment inside.");
				return;
			}
		}

		PatchHeatmapOverlay overlay = prefs.liveOverlay.get() ? new PatchHeatmapOverlay() : null;
		List<QuPathViewer> viewers = viewersShowing(imageData);
		AtomicBoolean repaintQueued = new AtomicBoolean();
		SegmentProgressDialog[] dialog = new SegmentProgressDialog[1];
		SegmentListener listener = new SegmentListener() {
			@Override
			public void onProgress(JobProgress progress) {
				dialog[0].progress(progress);
			}

			@Override
			public void onPatches(PatchScoreBatch patches) {
				if (overlay == null)
					return;
				overlay.add(patches);
				if (repaintQueued.compareAndSet(false, true))
					Platform.runLater(() -> {
						repaintQueued.set(false);
						viewers.forEach(QuPathViewer::repaint);
					});
			}

			@Override
			public void onMessage(String message) {
				dialog[0].message(message);
			}
		};

		H2GNet h2g;
		try {
			h2g = prefs.builder().livePatches(overlay != null).listener(listener).build();
		} catch (IllegalArgumentException e) {
			Dialogs.showErrorNotification(TITLE, e.getMessage() + " (Edit > Preferences > H2G-Net)");
			return;
		}
		List<PathObject> rois = annotations;
		Task<SegmentationReport> task = new Task<>() {
			@Override
			protected SegmentationReport call() throws Exception {
				return h2g.segmentAndReport(imageData, rois);
			}
		};
		dialog[0] = new SegmentProgressDialog(qupath.getStage(), imageName(imageData), () -> task.cancel(true));
		if (overlay != null)
			viewers.forEach(v -> v.getCustomOverlayLayers().add(overlay));
		Runnable cleanUp = () -> {
			dialog[0].close();
			if (overlay != null)
				viewers.forEach(v -> {
					v.getCustomOverlayLayers().remove(overlay);
					v.repaint();
				});
		};

		task.setOnSucceeded(e -> {
			cleanUp.run();
			SegmentationReport report = task.getValue();
			if (report.demoWeights())
				Dialogs.showWarningNotification(TITLE, report.describe());
			else
				Dialogs.showInfoNotification(TITLE, report.describe());
		});
		task.setOnCancelled(e -> {
			cleanUp.run();
			Dialogs.showWarningNotification(TITLE, "Segmentation cancelled.");
		});
		task.setOnFailed(e -> {
			cleanUp.run();
			Throwable t = task.getException();
			if (t instanceof SidecarException se && se.reason() == SidecarException.Reason.CANCELLED) {
				Dialogs.showWarningNotification(TITLE, "Segmentation cancelled.");
				return;
			}
			logger.error("H2G-Net segmentation failed", t);
			Dialogs.showErrorNotification(TITLE, t instanceof SidecarException ? t.getMessage() : "Segmentation failed: " + t);
		});
		dialog[0].show();
		executor.execute(task);
	}

	private List<QuPathViewer> viewersShowing(ImageData<BufferedImage> imageData) {
		return qupath.getAllViewers().stream().filter(v -> v.getImageData() == imageData).toList();
	}

	private static String imageName(ImageData<BufferedImage> imageData) {
		return H2GNet.inputFor(imageData.getServer()).pixels().name();
	}
}
