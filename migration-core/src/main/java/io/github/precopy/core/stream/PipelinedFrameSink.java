package io.github.precopy.core.stream;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Writes frames on a thread of its own, so that the encoder fills the next buffer while the last
 * one is checksummed and written. A fixed pool of direct buffers bounds the memory: when all are
 * waiting to be written, {@link #send} waits for one, and fails once the channel has taken nothing
 * for the stall timeout. A write error is reported by the next call.
 */
final class PipelinedFrameSink implements FrameSink {

  private static final int BUFFERS = 3;
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final WritableByteChannel channel;
  private final long stallNanos;
  private final BlockingQueue<Frame> full = new ArrayBlockingQueue<>(BUFFERS);
  private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
  private final ByteBuffer first;
  private final Thread writer;
  private volatile IOException failure;
  private volatile boolean closed;

  PipelinedFrameSink(
      WritableByteChannel channel, int bufferBytes, Duration stallTimeout, String name) {
    this.channel = channel;
    this.stallNanos = stallTimeout.toNanos();
    this.first = FrameSink.frameBuffer(channel, bufferBytes);
    for (int i = 1; i < BUFFERS; i++) {
      free.add(FrameSink.frameBuffer(channel, bufferBytes));
    }
    writer = new Thread(this::writeFrames, name);
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public ByteBuffer firstBuffer() {
    return first;
  }

  @Override
  public ByteBuffer send(ByteBuffer frame, FrameCompression compression) throws IOException {
    checkHealthy();
    full.add(new Frame(frame, compression));
    return awaitFree(1);
  }

  @Override
  public ByteBuffer allocate(int bytes) {
    return FrameSink.frameBuffer(channel, bytes);
  }

  @Override
  public void drain() throws IOException {
    // Every buffer but the one the encoder holds is back in the pool once all frames are written.
    ByteBuffer[] taken = new ByteBuffer[BUFFERS - 1];
    for (int i = 0; i < taken.length; i++) {
      taken[i] = awaitFree(i + 1);
    }
    for (ByteBuffer buffer : taken) {
      free.add(buffer);
    }
  }

  @Override
  public void close() {
    closed = true;
    writer.interrupt();
  }

  /** Takes a free buffer, waiting while the channel makes progress. */
  private ByteBuffer awaitFree(int index) throws IOException {
    long deadline = System.nanoTime() + stallNanos;
    int lastFull = full.size();
    try {
      while (true) {
        ByteBuffer buffer = free.poll(POLL_NANOS, TimeUnit.NANOSECONDS);
        if (buffer != null) {
          return buffer;
        }
        checkHealthy();
        int nowFull = full.size();
        if (nowFull != lastFull) {
          lastFull = nowFull;
          deadline = System.nanoTime() + stallNanos;
        } else if (System.nanoTime() - deadline > 0) {
          throw new InterruptedIOException(
              "the destination took no data for "
                  + TimeUnit.NANOSECONDS.toMillis(stallNanos)
                  + " ms");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for buffer " + index);
    }
  }

  private void checkHealthy() throws IOException {
    IOException failed = failure;
    if (failed != null) {
      throw new IOException(failed.getMessage(), failed);
    }
    if (closed) {
      throw new IOException("channel closed");
    }
  }

  private void writeFrames() {
    ByteBuffer header = FrameSink.headerBuffer();
    int frames = 0;
    try {
      while (!closed) {
        Frame frame = full.poll(POLL_NANOS, TimeUnit.NANOSECONDS);
        if (frame != null) {
          FrameSink.writeFrame(channel, header, frame.buffer, frame.compression, frames++);
          free.add(frame.buffer);
        }
      }
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException | Error e) {
      failure = new IOException("writing a frame failed: " + e, e);
    } catch (InterruptedException e) {
      // closed
    }
  }

  /** A frame handed over, with the compression to apply (null: none). */
  private record Frame(ByteBuffer buffer, FrameCompression compression) {}
}
