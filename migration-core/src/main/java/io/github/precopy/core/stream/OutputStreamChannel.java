package io.github.precopy.core.stream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * A channel over an {@link OutputStream}, for a {@link MigrationStreamWriter} over a transport that
 * offers only a stream (a TLS socket, a pipe): it writes a heap buffer's array as it is and copies
 * a direct buffer through a 64 KiB array, where the JDK's {@code Channels.newChannel} copies 8 KiB
 * at a time (8 KiB TLS records); it flushes after each write. Closing it closes the stream. Not
 * thread-safe.
 */
final class OutputStreamChannel implements WritableByteChannel {

  private static final int TRANSFER_BYTES = 64 * 1024;

  private final OutputStream out;
  private final byte[] transfer = new byte[TRANSFER_BYTES];
  private volatile boolean open = true;

  /** A channel that writes into {@code out}. */
  OutputStreamChannel(OutputStream out) {
    this.out = Objects.requireNonNull(out, "out");
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    int written = 0;
    if (src.hasArray()) {
      written = src.remaining();
      out.write(src.array(), src.arrayOffset() + src.position(), written);
      src.position(src.limit());
    }
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
