package io.github.precopy.core.stream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;

/**
 * A channel over an {@link OutputStream} that copies through a 64 KiB array (the JDK's adapter
 * copies 8 KiB at a time) and flushes after each write. Closing it closes the stream.
 */
final class OutputStreamChannel implements WritableByteChannel {

  private static final int TRANSFER_BYTES = 64 * 1024;

  private final OutputStream out;
  private final byte[] transfer = new byte[TRANSFER_BYTES];
  private volatile boolean open = true;

  OutputStreamChannel(OutputStream out) {
    this.out = out;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    int written = 0;
    while (src.hasRemaining()) {
      int n = Math.min(src.remaining(), transfer.length);
      src.get(transfer, 0, n);
      out.write(transfer, 0, n);
      written += n;
    }
    out.flush();
    return written;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() throws IOException {
    open = false;
    out.close();
  }
}
