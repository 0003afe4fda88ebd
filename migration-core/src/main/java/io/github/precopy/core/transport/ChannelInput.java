package io.github.precopy.core.transport;

import io.github.precopy.core.stream.FrameWatcher;
import io.github.precopy.core.stream.MigrationStreamReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The input of one channel a destination accepted, bounded two ways: a read that gets nothing for
 * the I/O timeout fails (the socket's read timeout), and so does a frame that is not whole within
 * the I/O timeout of its first byte, however its bytes trickle in. The decoder says where frames
 * begin and end ({@link FrameWatcher}); a {@link Watchdog} shuts the socket's input once a frame is
 * late, which ends a read blocked anywhere, even inside a TLS record, and leaves the output open
 * for the reply. Closing this stream shuts the socket's input too.
 *
 * <p>Over plain TCP, the decoder also reads straight into guest RAM through the socket's channel
 * ({@link #read(ByteBuffer[])}), whose reads know no timeout: those happen only inside a frame,
 * whose deadline bounds them, and the watchdog also ends one that has received nothing for the I/O
 * timeout, as the socket's read timeout would, and says so in the same words.
 *
 * <p>Thread-safety: one reader thread; {@link #expireIfLate} and {@link #close} from any thread.
 */
final class ChannelInput extends InputStream
    implements FrameWatcher, MigrationStreamReader.ScatteringInput {

  private static final long DISARMED = 0;
  private static final long EXPIRED = Long.MIN_VALUE;

  private final Socket socket;
  private final InputStream in;
  private final SocketChannel channel;
  private final long ioMillis;

  /** Whether a read through {@link #channel} is under way, which no read timeout bounds. */
  private volatile boolean channelReading;

  /** Set by the watchdog when it ended a channel read that had received nothing for too long. */
  private volatile boolean idleExpired;

  /** When the frame being read is due: {@link #DISARMED} between frames, or {@link #EXPIRED}. */
  private final AtomicLong deadline = new AtomicLong(DISARMED);

  /** When the last byte arrived. */
  private volatile long lastByteNanos = System.nanoTime();

  private boolean awaitingFrame;
  private long frameBytes;

  /**
   * @param socket the plain socket, whose input is shut to stop a read
   * @param in what the stream is read from: the socket's input, or TLS's over it
   * @param channel the plain socket's channel, to read pages straight into memory; null with TLS
   */
  ChannelInput(Socket socket, InputStream in, SocketChannel channel, long ioMillis) {
    this.socket = socket;
    this.in = in;
    this.channel = channel;
    this.ioMillis = ioMillis;
  }

  /** The input the decoder may read straight into memory through, or null: TLS decrypts first. */
  MigrationStreamReader.ScatteringInput scatter() {
    return channel == null ? null : this;
  }

  @Override
  public long read(ByteBuffer[] targets) throws IOException {
    checkExpired();
    long read;
    channelReading = true;
    try {
      read = channel.read(targets);
    } catch (IOException e) {
      checkIdle();
      checkExpired();
      throw e;
    } finally {
      channelReading = false;
    }
    if (read > 0) {
      lastByteNanos = System.nanoTime();
      if (awaitingFrame) {
        awaitingFrame = false;
        arm();
      }
      frameBytes += read;
    } else {
      checkIdle();
    }
    checkExpired();
    return read;
  }

  private void checkIdle() throws SocketTimeoutException {
    if (idleExpired) {
      throw new SocketTimeoutException("the source sent nothing for " + ioMillis + " ms");
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int read = read(one, 0, 1);
    return read < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    checkExpired();
    int read;
    try {
      read = in.read(b, off, len);
    } catch (SocketTimeoutException e) {
      checkExpired();
      throw new SocketTimeoutException("the source sent nothing for " + ioMillis + " ms");
    } catch (IOException e) {
      checkExpired();
      throw e;
    }
    if (read > 0) {
      lastByteNanos = System.nanoTime();
      if (awaitingFrame) {
        awaitingFrame = false;
        arm();
      }
      frameBytes += read;
    }
    checkExpired();
    return read;
  }

  @Override
  public void beforeFrame() throws IOException {
    checkExpired();
    awaitingFrame = true;
    frameBytes = 0;
  }

  @Override
  public void frameRead() throws IOException {
    awaitingFrame = false;
    long due;
    do {
      due = deadline.get();
      if (due == EXPIRED) {
        throw late();
      }
    } while (!deadline.compareAndSet(due, DISARMED));
  }

  /** The first byte of a frame has arrived: the whole frame is due within the I/O timeout. */
  private void arm() throws IOException {
    long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ioMillis);
    if (due == DISARMED || due == EXPIRED) {
      due++;
    }
    if (!deadline.compareAndSet(DISARMED, due)) {
      throw late();
    }
  }

  private void checkExpired() throws SocketTimeoutException {
    if (deadline.get() == EXPIRED) {
      throw late();
    }
  }

  private SocketTimeoutException late() {
    return new SocketTimeoutException(
        "the source sent only " + frameBytes + " bytes of a frame in " + ioMillis + " ms");
  }

  /**
   * Fails the frame being read if it is due by {@code now}, and shuts the socket's input so that
   * the reader learns it at once. A frame that has gone quiet instead of trickling (nothing for
   * nearly the I/O timeout) is left, for one more {@code periodNanos}, to the read's own timeout,
   * which is about to fire and says so more plainly: the source sent nothing.
   */
  void expireIfLate(long now, long periodNanos) {
    if (channelReading
        && !idleExpired
        && now - lastByteNanos >= TimeUnit.MILLISECONDS.toNanos(ioMillis)) {
      idleExpired = true;
      deadline.set(EXPIRED);
      shutInput();
      return;
    }
    long due = deadline.get();
    if (due == DISARMED || due == EXPIRED || now - due < 0) {
      return;
    }
    boolean quiet = now - lastByteNanos >= TimeUnit.MILLISECONDS.toNanos(ioMillis) - periodNanos;
    if (quiet && now - due < periodNanos) {
      return;
    }
    if (deadline.compareAndSet(due, EXPIRED)) {
      shutInput();
    }
  }

  /** Shuts the socket's input, which ends a blocked read and leaves the output for the reply. */
  @Override
  public void close() {
    shutInput();
  }

  private void shutInput() {
    try {
      if (!socket.isInputShutdown() && !socket.isClosed()) {
        socket.shutdownInput();
      }
    } catch (IOException ignored) {
      // Already shut or closed: the read ends all the same.
    }
  }

  /**
   * A thread that looks at the channels' frame deadlines every twentieth of the I/O timeout (10 to
   * 250 ms), so a trickling frame fails at most that long after it was due (twice that if it went
   * quiet just before).
   */
  static final class Watchdog {
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread thread;

    Watchdog(List<ChannelInput> inputs, long ioMillis) {
      long period = Math.max(10, Math.min(250, ioMillis / 20));
      long periodNanos = TimeUnit.MILLISECONDS.toNanos(period);
      thread =
          new Thread(
              () -> {
                try {
                  while (!stopped.await(period, TimeUnit.MILLISECONDS)) {
                    long now = System.nanoTime();
                    for (ChannelInput input : inputs) {
                      input.expireIfLate(now, periodNanos);
                    }
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "precopy-receive-watchdog");
      thread.setDaemon(true);
      thread.start();
    }

    /** Stops the thread and waits for it to end. */
    void stop() {
      stopped.countDown();
      boolean interrupted = false;
      while (thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
