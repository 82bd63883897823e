package qupath.ext.h2gnet.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SidecarAddressTest {

	@Test
	void parsesHostAndPortIgnoringWhitespaceAndSchemes() {
		assertEquals(new SidecarAddress("127.0.0.1", 50051, false), SidecarAddress.parse("127.0.0.1:50051"));
		assertEquals(new SidecarAddress("127.0.0.1", 50051, false), SidecarAddress.parse("  127.0.0.1:50051 \n"));
		assertEquals(new SidecarAddress("127.0.0.1", 50051, false), SidecarAddress.parse("\t127.0.0.1:50051\t"));
		assertEquals(new SidecarAddress("gpu-box", 9000, false), SidecarAddress.parse("http://gpu-box:9000/"));
		assertEquals(new SidecarAddress("gpu-box", 9000, false), SidecarAddress.parse("grpc://gpu-box:9000"));
		assertEquals(new SidecarAddress("gpu-box", 443, true), SidecarAddress.parse("https://gpu-box:443"));
		assertEquals(new SidecarAddress("::1", 7000, false), SidecarAddress.parse("[::1]:7000"));
	}

	@Test
	void printsBackWhatItParsed() {
		assertEquals("127.0.0.1:5", SidecarAddress.parse(" 127.0.0.1:5 ").toString());
		assertEquals("[::1]:7000", SidecarAddress.parse("[::1]:7000").toString());
		assertEquals("https://h:1", SidecarAddress.parse("https://h:1").toString());
		assertTrue(SidecarAddress.loopback(1234).toString().equals("127.0.0.1:1234"));
		assertFalse(SidecarAddress.loopback(1234).tls());
	}

	@ParameterizedTest
	@ValueSource(strings = { "localhost", "localhost:", ":5000", "localhost:abc", "local host:5000", "localhost:0", "localhost:70000", "::1:5000", "[::1]5000" })
	void refusesWhatCannotWorkWithAHint(String text) {
		IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SidecarAddress.parse(text));
		assertTrue(e.getMessage().contains("host:port") || e.getMessage().contains("port must be"), e.getMessage());
	}

	@Test
	void refusesEmptyInput() {
		assertTrue(assertThrows(IllegalArgumentException.class, () -> SidecarAddress.parse("   ")).getMessage().contains("No sidecar address"));
		assertThrows(IllegalArgumentException.class, () -> SidecarAddress.parse(null));
	}
}
