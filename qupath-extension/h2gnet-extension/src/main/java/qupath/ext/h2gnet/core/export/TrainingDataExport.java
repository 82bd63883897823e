package qupath.ext.h2gnet.core.export;

import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import qupath.ext.h2gnet.core.ExtensionVersion;
import qupath.ext.h2gnet.core.qupath.SlideFileLocator;
import qupath.lib.images.ImageData;
import qupath.lib.io.PathIO;
import qupath.lib.objects.PathObject;
import qupath.lib.objects.PathObjectTools;
import qupath.lib.objects.classes.PathClass;
import qupath.lib.projects.Project;
import qupath.lib.projects.ProjectImageEntry;

/**
 * "Export training data": for every image of a project, its "Tumor" annotations as a GeoJSON file, and
 * the dataset file the trainer reads (schema: README, "Training data from QuPath"). Coordinates are in
 * the slide FILE's level-0 pixels: QuPath's frame offset (OpenSlide bounds, a cropped view) is undone.
 * GUI-free, so the menu command and scripts share it:
 *
 * <pre>{@code
 * qupath.ext.h2gnet.core.export.TrainingDataExport.builder().build().export(getProject())
 * }</pre>
 *
 * Images are left out, with the reason in the result, when they have no Tumor annotation (an
 * unannotated slide is not ground truth for "no tumour") or are not a slide file OpenSlide reads in a
 * known frame (the trainer reads slides with OpenSlide). Files are written to a temporary name and then
 * moved, dataset file last, so an interrupted export never leaves a dataset file pointing at half a file.
 */
public final class TrainingDataExport {

	public static final String DATASET_FILE = "dataset.json";
	public static final String ANNOTATIONS_DIR = "annotations";
	/** Project-entry metadata keys copied into the dataset (QuPath: right-click an image > Edit metadata). */
	public static final String GROUP_KEY = "group", SPLIT_KEY = "split";
	private static final Set<String> SPLITS = Set.of("train", "val", "test");
	private static final PathClass TUMOR = PathClass.fromString("Tumor");

	private final Path output;
	private final String name;
	private final boolean overwrite;

	/**
	 * @param datasetFile the dataset file written
	 * @param exported    image name -> dataset id, for the images written
	 * @param skipped     image name -> why it was left out
	 */
	public record Result(Path datasetFile, Map<String, String> exported, Map<String, String> skipped) {

		/** One line for a notification or a script's output. */
		public String describe() {
			String s = String.format(Locale.ROOT, "%d image(s) exported to %s", exported.size(), datasetFile);
			return skipped.isEmpty() ? s : s + "; " + skipped.size() + " left out: " + String.join("; ", skipped.entrySet().stream()
					.map(e -> e.getKey() + " (" + e.getValue() + ")").toList());
		}
	}

	private TrainingDataExport(Builder b) {
		this.output = b.output;
		this.name = b.name;
		this.overwrite = b.overwrite;
	}

	public static Builder builder() {
		return new Builder();
	}

	/** Where an export of this project goes by default: {@code <project folder>/h2gnet-training}. */
	public static Path defaultOutput(Project<?> project) {
		return projectFolder(project).resolve("h2gnet-training");
	}

	public Result export(Project<BufferedImage> project) throws IOException {
		Path out = output != null ? output : defaultOutput(project);
		Path datasetFile = out.resolve(DATASET_FILE);
		if (Files.exists(datasetFile) && !overwrite)
			throw new IOException(datasetFile + " exists already: choose another folder, or overwrite it (.overwrite(true) in scripts)");
		Files.createDirectories(out.resolve(ANNOTATIONS_DIR));

		Map<String, String> exported = new LinkedHashMap<>(), skipped = new LinkedHashMap<>();
		Set<String> ids = new HashSet<>();
		JsonArray slides = new JsonArray();
		for (ProjectImageEntry<BufferedImage> entry : project.getImageList()) {
			if (Thread.currentThread().isInterrupted())
				throw new IOException("The export was cancelled; nothing was written to " + datasetFile);
			String imageName = entry.getImageName();
			String split = entry.getMetadata().get(SPLIT_KEY);
			if (split != null && !SPLITS.contains(split.strip())) {
				skipped.put(imageName, "its 'split' metadata is '" + split + "', not train, val or test");
				continue;
			}
			ImageData<BufferedImage> data = entry.readImageData();
			try {
				List<PathObject> tumour = data.getHierarchy().getAnnotationObjects().stream()
						.filter(o -> o.getPathClass() == TUMOR && o.hasROI() && o.getROI().isArea()).toList();
				if (tumour.isEmpty()) {
					skipped.put(imageName, "no Tumor annotations");
					continue;
				}
				var slide = SlideFileLocator.locate(data.getServer());
				if (slide.isEmpty()) {
					skipped.put(imageName, "not a slide file OpenSlide reads in QuPath's frame (" + data.getServer().getServerType() + ")");
					continue;
				}
				String id = uniqueId(imageName, ids);
				Path annotations = out.resolve(ANNOTATIONS_DIR).resolve(id + ".geojson");
				var offset = slide.get().offset();
				AffineTransform toFile = AffineTransform.getTranslateInstance(offset.x(), offset.y());
				List<PathObject> inFileFrame = tumour.stream().map(o -> PathObjectTools.transformObject(o, toFile, true, false)).toList();
				writeAtomically(annotations, stream -> PathIO.exportObjectsAsGeoJSON(stream, inFileFrame,
						PathIO.GeoJsonExportOptions.FEATURE_COLLECTION));

				JsonObject s = new JsonObject();
				s.addProperty("id", id);
				s.addProperty("slide", slide.get().path().toAbsolutePath().toString());
				s.addProperty("annotations", ANNOTATIONS_DIR + "/" + annotations.getFileName());
				var cal = data.getServer().getPixelCalibration();
				if (cal.hasPixelSizeMicrons())
					s.addProperty("mpp", cal.getAveragedPixelSizeMicrons());
				String group = entry.getMetadata().get(GROUP_KEY);
				if (group != null && !group.isBlank())
					s.addProperty("group", group.strip());
				if (split != null)
					s.addProperty("split", split.strip());
				slides.add(s);
				exported.put(imageName, id);
			} finally {
				closeQuietly(data);
			}
		}
		if (slides.isEmpty())
			throw new IOException("No image of the project can be exported: " + (skipped.isEmpty() ? "the project is empty"
					: String.join("; ", skipped.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList())));

		JsonObject dataset = new JsonObject();
		dataset.addProperty("schemaVersion", 1);
		dataset.addProperty("name", name != null ? name : projectFolder(project).getFileName().toString());
		dataset.addProperty("createdBy", ExtensionVersion.nameAndVersion());
		dataset.add("slides", slides);
		String json = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(dataset) + "\n";
		writeAtomically(datasetFile, stream -> stream.write(json.getBytes(StandardCharsets.UTF_8)));
		return new Result(datasetFile, exported, skipped);
	}

	/** A dataset id from the image name: file-name safe ([A-Za-z0-9._-]+), without the extension, unique. */
	static String uniqueId(String imageName, Set<String> taken) {
		String base = imageName == null ? "" : imageName.strip();
		int dot = base.lastIndexOf('.');
		if (dot > 0)
			base = base.substring(0, dot);
		base = base.replaceAll("[^A-Za-z0-9._-]+", "_").replaceAll("^[._]+", "");
		if (base.isEmpty())
			base = "image";
		String id = base;
		for (int i = 2; !taken.add(id); i++)
			id = base + "-" + i;
		return id;
	}

	private interface Writer {
		void write(OutputStream stream) throws IOException;
	}

	private static void writeAtomically(Path target, Writer writer) throws IOException {
		Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
		try {
			try (OutputStream stream = Files.newOutputStream(tmp)) {
				writer.write(stream);
			}
			try {
				Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
			} catch (AtomicMoveNotSupportedException e) {
				Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
			}
		} finally {
			Files.deleteIfExists(tmp);
		}
	}

	private static void closeQuietly(ImageData<BufferedImage> data) {
		try {
			data.getServer().close();
		} catch (Exception e) {
			// a reader that fails to close loses nothing that was exported
		}
	}

	private static Path projectFolder(Project<?> project) {
		Path p = project.getPath();
		return p.getParent() != null ? p.getParent().toAbsolutePath() : p.toAbsolutePath();
	}

	/** Options; all have defaults. */
	public static final class Builder {
		private Path output;
		private String name;
		private boolean overwrite;

		private Builder() {
		}

		/** The folder for dataset.json and annotations/; default {@code <project folder>/h2gnet-training}. */
		public Builder output(Path folder) {
			this.output = folder;
			return this;
		}

		public Builder output(String folder) {
			return output(Path.of(folder));
		}

		/** The dataset's name; default the project folder's name. */
		public Builder name(String name) {
			this.name = name;
			return this;
		}

		/** Replace an existing dataset.json (and the annotation files of the same ids). */
		public Builder overwrite(boolean overwrite) {
			this.overwrite = overwrite;
			return this;
		}

		public TrainingDataExport build() {
			return new TrainingDataExport(this);
		}
	}
}
