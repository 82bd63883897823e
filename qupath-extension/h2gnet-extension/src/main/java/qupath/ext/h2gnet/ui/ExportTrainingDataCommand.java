package qupath.ext.h2gnet.ui;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;

import javafx.concurrent.Task;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import qupath.ext.h2gnet.core.export.TrainingDataExport;
import qupath.fx.dialogs.Dialogs;
import qupath.fx.dialogs.FileChoosers;
import qupath.lib.gui.QuPathGUI;

/**
 * "Export training data": asks for a folder (default {@code <project>/h2gnet-training}), confirms before
 * replacing a dataset there, and runs {@link TrainingDataExport} in the background.
 */
final class ExportTrainingDataCommand {

	private static final Logger logger = LoggerFactory.getLogger(ExportTrainingDataCommand.class);
	private static final String TITLE = "H2G-Net training data";

	private final QuPathGUI qupath;
	private final ExecutorService executor;

	ExportTrainingDataCommand(QuPathGUI qupath, ExecutorService executor) {
		this.qupath = qupath;
		this.executor = executor;
	}

	void run() {
		var project = qupath.getProject();
		if (project == null) {
			Dialogs.showWarningNotification(TITLE, "Open a project first: the export writes every image of the current project.");
			return;
		}
		Path suggested = TrainingDataExport.defaultOutput(project);
		File chosen = FileChoosers.promptForDirectory(qupath.getStage(), "Folder for dataset.json and annotations/",
				Files.isDirectory(suggested) ? suggested.toFile() : suggested.getParent().toFile());
		if (chosen == null)
			return;
		Path folder = chosen.toPath();
		boolean replace = Files.exists(folder.resolve(TrainingDataExport.DATASET_FILE));
		if (replace && !Dialogs.showConfirmDialog(TITLE, folder.resolve(TrainingDataExport.DATASET_FILE) + " exists. Replace it?"))
			return;
		// Unsaved edits of the open image are not in the project yet: say so rather than export old data.
		if (qupath.getImageData() != null && qupath.getImageData().isChanged())
			Dialogs.showWarningNotification(TITLE, "The open image has unsaved changes; the export uses its last saved state.");
		Task<TrainingDataExport.Result> task = new Task<>() {
			@Override
			protected TrainingDataExport.Result call() throws Exception {
				return TrainingDataExport.builder().output(folder).overwrite(replace).build().export(project);
			}
		};
		task.setOnSucceeded(e -> Dialogs.showInfoNotification(TITLE, task.getValue().describe()));
		task.setOnFailed(e -> {
			logger.error("Training data export failed", task.getException());
			Dialogs.showErrorNotification(TITLE, String.valueOf(task.getException().getMessage()));
		});
		Dialogs.showInfoNotification(TITLE, "Exporting " + project.getImageList().size() + " image(s)…");
		executor.execute(task);
	}
}
