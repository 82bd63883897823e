package qupath.ext.h2gnet.core.qupath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
	void openSlideCropInTheServerPathIsTheFrameOffset() {
		assertEquals(new FrameOffset(1536, 2048),
				SlideFileRules.frameOffset("OpenSlide", "file:/data/slide.mrxs [x=1536,y=2048,w=80000,h=150000]"));
		assertEquals(FrameOffset.NONE, SlideFileRules.frameOffset("OpenSlide", "file:/data/slide.svs"));
		assertEquals(FrameOffset.NONE, SlideFileRules.frameOffset("Bio-Formats", "file:/data/slide.mrxs [x=1,y=2,w=3,h=4]"));
		assertEquals(FrameOffset.NONE, SlideFileRules.frameOffset("OpenSlide", null));
	}
}
