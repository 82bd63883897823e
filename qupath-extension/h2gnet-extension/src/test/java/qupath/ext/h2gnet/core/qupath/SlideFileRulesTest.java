package qupath.ext.h2gnet.core.qupath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import qupath.ext.h2gnet.core.geojson.FrameOffset;

class SlideFileRulesTest {

	@TempDir
	Path dir;

	@Test
	void openSlideAndBioFormatsOnVendorFilesGoByPath() throws Exception {
		Path svs = Files.createFile(dir.resolve("slide.svs"));
		Path tif = Files.createFile(dir.resolve("image.ome.tif"));
		Path png = Files.createFile(dir.resolve("image.png"));
		assertEquals(svs, SlideFileRules.slideFile("OpenSlide", List.of(svs.toUri())).orElseThrow());
		assertEquals(svs, SlideFileRules.slideFile("Bio-Formats", List.of(svs.toUri())).orElseThrow());
		assertTrue(SlideFileRules.slideFile("Bio-Formats", List.of(tif.toUri())).isEmpty(), "OME-TIFF: pixels");
		assertTrue(SlideFileRules.slideFile("ImageJ server", List.of(png.toUri())).isEmpty());
	}

	@Test
	void wrappedRemoteMissingOrMultiFileImagesGetPixels() throws Exception {
		Path svs = Files.createFile(dir.resolve("slide.svs"));
		assertTrue(SlideFileRules.slideFile("OpenSlide (ROTATE_90)", List.of(svs.toUri())).isEmpty(), "rotated view");
		assertTrue(SlideFileRules.slideFile("Cropped image server", List.of(svs.toUri())).isEmpty());
		assertTrue(SlideFileRules.slideFile("OpenSlide", List.of(dir.resolve("gone.svs").toUri())).isEmpty());
		assertTrue(SlideFileRules.slideFile("OpenSlide", List.of(URI.create("https://omero.example/img/1"))).isEmpty());
		assertTrue(SlideFileRules.slideFile("OpenSlide", List.of(svs.toUri(), svs.toUri())).isEmpty());
		assertTrue(SlideFileRules.slideFile("OpenSlide", List.of()).isEmpty());
	}

	@Test
	void boundsFromOpenSlidesPropertiesAreTheOffsetWhenQuPathCroppedToThem() {
		Map<String, String> mirax = Map.of("openslide.level[0].width", "101376", "openslide.level[0].height", "234240",
				"openslide.bounds-x", "1536", "openslide.bounds-y", "2048", "openslide.bounds-width", "80000", "openslide.bounds-height", "150000");
		assertEquals(Optional.of(new FrameOffset(1536, 2048)), SlideFileRules.openSlideOffset(mirax, 80000, 150000), "cropped to the bounds");
		assertEquals(Optional.of(FrameOffset.NONE), SlideFileRules.openSlideOffset(mirax, 101376, 234240), "opened with --no-crop");
		assertEquals(Optional.empty(), SlideFileRules.openSlideOffset(mirax, 5000, 5000), "a frame nobody can explain: send pixels");
		Map<String, String> svs = Map.of("openslide.level[0].width", "2220", "openslide.level[0].height", "2967");
		assertEquals(Optional.of(FrameOffset.NONE), SlideFileRules.openSlideOffset(svs, 2220, 2967));
		assertEquals(Optional.empty(), SlideFileRules.openSlideOffset(Map.of(), 2220, 2967), "no properties: unknown");
		assertEquals(Optional.empty(), SlideFileRules.openSlideOffset(Map.of("openslide.level[0].width", "x", "openslide.level[0].height", "1"), 2220, 1));
	}

	@Test
	void bioFormatsOnFormatsWithBoundsGetsPixels() throws Exception {
		for (String ext : new String[] { "mrxs", "scn", "bif", "vms" }) {
			Path file = Files.createFile(dir.resolve("slide." + ext));
			assertTrue(SlideFileRules.slideFile("Bio-Formats", List.of(file.toUri())).isEmpty(), ext);
			assertEquals(file, SlideFileRules.slideFile("OpenSlide", List.of(file.toUri())).orElseThrow(), ext);
		}
	}
}
