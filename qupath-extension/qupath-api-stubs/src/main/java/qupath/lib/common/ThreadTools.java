// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.lib.common;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

public class ThreadTools {

	public static ThreadFactory createThreadFactory(String prefix, boolean daemon) {
		AtomicInteger count = new AtomicInteger();
		return r -> {
			Thread t = new Thread(r, prefix + count.incrementAndGet());
			t.setDaemon(daemon);
			return t;
		};
	}
}
