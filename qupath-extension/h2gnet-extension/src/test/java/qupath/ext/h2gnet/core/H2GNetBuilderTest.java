package qupath.ext.h2gnet.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;

import org.junit.jupiter.api.Test;

import qupath.ext.h2gnet.core.client.SidecarException;
import qupath.ext.h2gnet.core.pixels.BufferedImagePixelSource;

class H2GNetBuilderTest {

	@Test
	void buildsSettingsAndTheEquivalentScript() {
		H2GNet h = H2GNet.builder().tissueThreshold(0.25).smoothingMicrons(50).modelSet("published").batchSize(8).build();
		assertEquals(0.25, h.settings().tissueThreshold());
		assertEquals(50, h.settings().smoothingMicrons());
		assertEquals(SourceMode.AUTO, h.settings().sourceMode());
		assertEquals(Precision.FLOAT32, h.settings().precision(), "float32 unless asked");
		assertEquals(RuleSet.FAST, h.settings().reference(), "FastPathology's rules unless asked");
		assertEquals("qupath.ext.h2gnet.core.H2GNet.builder().modelSet('published').precision('float32').reference('fast')"
				+ ".tissueThreshold(0.25).smoothingMicrons(50.0).batchSize(8).build().segment(getCurrentImageData())", h.toScript(false));
		assertTrue(H2GNet.builder().source(SourceMode.PIXELS).build().toScript(true)
				.endsWith(".source(qupath.ext.h2gnet.core.SourceMode.PIXELS).build().segmentInside(getCurrentImageData(), getSelectedObjects().findAll { it.isAnnotation() })"));
	}

	@Test
	void precisionAndRuleSetAreSetByNameAndRepeatedInTheScript() {
		H2GNet h = H2GNet.builder().precision("int8").reference(" Fast-Exact ").build();
		assertEquals(Precision.INT8, h.settings().precision());
		assertEquals(RuleSet.FAST_EXACT, h.settings().reference(), "spaces and case are forgiven");
		assertTrue(h.toScript(false).contains(".precision('int8').reference('fast-exact')"), h.toScript(false));
		assertEquals(RuleSet.H2G, H2GNet.builder().reference("h2g").build().settings().reference());
		assertEquals(Precision.FLOAT32, H2GNet.builder().precision("float32").build().settings().precision());
	}

	@Test
	void anUnknownPrecisionOrRuleSetIsRefusedNamingTheAllowedValues() {
		String precision = assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().precision("fp16").build()).getMessage();
		assertEquals("The precision must be one of float32, int8, not 'fp16'", precision);
		String reference = assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().reference("fastpathology").build()).getMessage();
		assertEquals("The rule set (reference) must be one of fast, fast-exact, h2g, not 'fastpathology'", reference);
		assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().precision("").build(), "empty is no precision");
		assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().reference(null).build());
	}

	@Test
	void refusesParametersOutsideTheirRange() {
		assertTrue(assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().tissueThreshold(1.5).build())
				.getMessage().contains("tissue threshold"));
		assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().smoothingMicrons(-1).build());
		assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().pixelSizeMicrons(Double.NaN).build());
		assertThrows(IllegalArgumentException.class, () -> H2GNet.builder().batchSize(-2).build());
	}

	@Test
	void withoutAConfiguredSidecarTheMessageSaysWhatToPass() {
		var input = ImageInput.pixelsOnly(new BufferedImagePixelSource("x", new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), 0.5));
		SidecarException e = assertThrows(SidecarException.class, () -> H2GNet.builder().build().run(input, null));
		assertTrue(e.getMessage().contains(".address(") && e.getMessage().contains(".launchCommand("), e.getMessage());
	}

	@Test
	void downsamplesSentToTheSidecarStartAtOneAndIncrease() {
		assertArrayEquals(new double[] { 1, 4, 16 }, SegmentationRunner.usableDownsamples(new double[] { 1.0000001, 4, 4.0000001, 16 }));
		assertArrayEquals(new double[] { 1 }, SegmentationRunner.usableDownsamples(null));
		assertArrayEquals(new double[] { 1, 2 }, SegmentationRunner.usableDownsamples(new double[] { 2, 0.5, Double.NaN }));
	}
}
