package qupath.ext.h2gnet.core.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import qupath.ext.h2gnet.grpc.v1.Limits;
import qupath.ext.h2gnet.grpc.v1.ModelFile;
import qupath.ext.h2gnet.grpc.v1.ModelSetInfo;
import qupath.ext.h2gnet.grpc.v1.ServerInfo;

class ServerInfoTextTest {

	@Test
	void statusNamesVersionModelsPrecisionDigestsDemoFlagAndLimits() {
		ServerInfo info = ServerInfo.newBuilder()
				.setVersion("0.1.0")
				.addExecutionProviders("cpu")
				.addModelSets(ModelSetInfo.newBuilder().setName("tiny").setDirectory("/m/tiny").setIsDefault(true).setDemo(true).setPrecision("float32")
						.addFiles(ModelFile.newBuilder().setRole("patch").setFile("p.onnx").setSha256("ab12")))
				.addModelSets(ModelSetInfo.newBuilder().setName("tiny-int8").setDirectory("/m/tiny-int8").setPrecision("int8"))
				.setLimits(Limits.newBuilder().setMaxConcurrent(2).setMaxQueue(16).setRequiresToken(true).addAllowedRoots("/slides"))
				.build();
		String text = ServerInfoText.describe("sidecar at 127.0.0.1:5", info);
		for (String expected : new String[] { "127.0.0.1:5", "Version: 0.1.0", "tiny [float32] (default)", "tiny-int8 [int8]\n", "DEMO WEIGHTS", "patch: p.onnx  sha256 ab12",
				"2 job(s) at once, 16 queued", "token required", "/slides", "Execution providers: cpu" })
			assertTrue(text.contains(expected), expected + " in\n" + text);
	}
}
