package qupath.ext.h2gnet.core.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

class SidecarLogForwarderTest {

	@Test
	void pinoLinesBecomeReadableText() {
		String line = "{\"level\":30,\"time\":1795823352634,\"pid\":15592,\"slide\":\"/a.svs\",\"stage\":\"tissue\",\"msg\":\"stage tissue\"}";
		assertEquals("stage tissue slide=/a.svs stage=tissue", SidecarLogForwarder.forward(line));
		assertEquals("plain text crash", SidecarLogForwarder.forward("plain text crash"));
		assertEquals("x=1", SidecarLogForwarder.describe(JsonParser.parseString("{\"level\":40,\"x\":1}").getAsJsonObject()));
	}

	@Test
	void pinoLevelsMapToSlf4jLevels() {
		assertEquals(50, SidecarLogForwarder.pinoLevel(new JsonPrimitive(50)));
		assertEquals(40, SidecarLogForwarder.pinoLevel(new JsonPrimitive("warn")));
		assertEquals(60, SidecarLogForwarder.pinoLevel(new JsonPrimitive("fatal")));
		assertEquals(30, SidecarLogForwarder.pinoLevel(null));
	}
}
