package qupath.ext.h2gnet.testing;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import qupath.ext.h2gnet.core.pixels.PixelSource;

/**
 * Wraps a source and sleeps on every read, so a job stays in flight long enough to be cancelled or to
 * have its sidecar killed; {@link #firstRead} opens when the sidecar asked for pixels.
 */
public final class SlowPixelSource implements PixelSource {

	private final PixelSource inner;
	private final long delayMillis;
	public final CountDownLatch firstRead = new CountDownLatch(1);
	public final AtomicInteger reads = new AtomicInteger();

	public SlowPixelSource(PixelSource inner, long delayMillis) {
		this.inner = inner;
		this.delayMillis = delayMillis;
	}

	@Override
	public String name() {
		return inner.name();
	}

	@Override
	public int width() {
		return inner.width();
	}

	@Override
	public int height() {
		return inner.height();
	}

	@Override
	public double pixelSizeMicrons() {
		return inner.pixelSizeMicrons();
	}

	@Override
	public double[] downsamples() {
		return inner.downsamples();
	}

	@Override
	public BufferedImage readRegion(double downsample, int x, int y, int width, int height) throws IOException {
		reads.incrementAndGet();
		firstRead.countDown();
		try {
			Thread.sleep(delayMillis);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IOException("interrupted", e);
		}
		return inner.readRegion(downsample, x, y, width, height);
	}
}
