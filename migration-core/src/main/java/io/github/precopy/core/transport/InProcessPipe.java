package io.github.precopy.core.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The in-process transport: a bounded byte pipe from a source thread ({@link #source()}) to a
 * destination thread ({@link #destination()}), carrying the same stream bytes as a socket would.
 *
 * <p>Bytes travel in chunks: the source fills a chunk and hands the whole array over when it is
 * full or on {@link OutputStream#flush()}; the destination drains it and gives the array back for
 * reuse. At most {@code capacityBytes / chunkBytes} chunks exist (allocated on demand), so a source
 * that runs ahead blocks once they are all full or in use (back-pressure). A flushed chunk occupies
 * a whole chunk of capacity however few bytes it holds.
 *
 * <ul>
 *   <li>Closing the source is end of input for the destination once it has read everything.
 *   <li>Closing the destination (from any thread) discards what is queued; the source's next write,
 *       flush or close that needs the destination (at the latest once a chunk is full) throws
 *       {@link IOException}, also when it is blocked waiting for space.
 *   <li>{@link #abort(Throwable)} breaks both directions at once: blocked or later calls on either
 *       side throw an {@link IOException} whose cause is the abort's; the destination does not see
 *       bytes still queued.
 * </ul>
 *
 * <p>Thread-safety: {@link #source()} is used by one thread and {@link #destination()} by one
 * (possibly another) thread; {@link #abort(Throwable)} and closing the destination may be called
 * from any thread, and a drained chunk is reused only after the destination has copied it out.
 * Waiting threads that are interrupted get an {@link InterruptedIOException} with their interrupt
 * status kept.
 */
final class InProcessPipe {

  /** Default capacity: 8 MiB. */
  public static final int DEFAULT_CAPACITY_BYTES = 8 * 1024 * 1024;

  /** Default chunk size: 256 KiB. */
  public static final int DEFAULT_CHUNK_BYTES = 256 * 1024;

  private final int chunkBytes;
  private final int maxChunks;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition readable = lock.newCondition();
  private final Condition writable = lock.newCondition();

  // Guarded by lock.
  private final ArrayDeque<byte[]> free = new ArrayDeque<>();
  private final byte[][] queued;
  private final int[] queuedLengths;
  private int queueHead;
  private int queueSize;
  private int allocatedChunks;
  private boolean sourceClosed;
  private boolean destinationClosed;
  private Throwable abortCause;

  private final Source source = new Source();
  private final Sink destination = new Sink();

  /** A pipe of {@link #DEFAULT_CAPACITY_BYTES} in chunks of {@link #DEFAULT_CHUNK_BYTES}. */
  public InProcessPipe() {
    this(DEFAULT_CAPACITY_BYTES, DEFAULT_CHUNK_BYTES);
  }

  /**
   * A pipe holding at most {@code capacityBytes} in chunks of {@link #DEFAULT_CHUNK_BYTES}, or in
   * one chunk if the capacity is smaller.
   *
   * @throws IllegalArgumentException if {@code capacityBytes} is not positive
   */
  public InProcessPipe(int capacityBytes) {
    this(capacityBytes, Math.min(capacityBytes, DEFAULT_CHUNK_BYTES));
  }

  /**
   * A pipe holding at most {@code capacityBytes} in chunks of {@code chunkBytes}.
   *
   * @throws IllegalArgumentException if {@code chunkBytes} is not positive or exceeds {@code
   *     capacityBytes}
   */
  public InProcessPipe(int capacityBytes, int chunkBytes) {
    if (chunkBytes <= 0 || chunkBytes > capacityBytes) {
      throw new IllegalArgumentException(
          "chunk of " + chunkBytes + " bytes does not fit a capacity of " + capacityBytes);
    }
    this.chunkBytes = chunkBytes;
    this.maxChunks = capacityBytes / chunkBytes;
    this.queued = new byte[maxChunks][];
    this.queuedLengths = new int[maxChunks];
  }

  /** The writing end; {@code close()} marks the end of the stream. */
  public OutputStream source() {
    return source;
  }

  /** The reading end; {@code close()} tells the source that nobody reads any more. */
  public InputStream destination() {
    return destination;
  }

  /**
   * Breaks the pipe in both directions with {@code cause} (for example the source's migration
   * failed or was cancelled). Only the first abort counts.
   */
  public void abort(Throwable cause) {
    Objects.requireNonNull(cause, "cause");
    lock.lock();
    try {
      if (abortCause == null) {
        abortCause = cause;
        discardQueued();
        readable.signalAll();
        writable.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Fails if the pipe is aborted, or if the destination is closed and {@code forSource}. */
  private void checkBroken(boolean forSource) throws IOException {
    if (abortCause != null) {
      throw new IOException("in-process pipe aborted: " + abortCause, abortCause);
    }
    if (destinationClosed) {
      throw new IOException(
          forSource ? "in-process pipe closed by the destination" : "in-process pipe closed");
    }
  }

  private void discardQueued() {
    while (queueSize > 0) {
      free.push(queued[queueHead]);
      queued[queueHead] = null;
      queueHead = (queueHead + 1) % maxChunks;
      queueSize--;
    }
  }

  private static InterruptedIOException interrupted() {
    Thread.currentThread().interrupt();
    return new InterruptedIOException("interrupted while waiting on the in-process pipe");
  }

  /** The source side; its fields belong to the source thread. */
  private final class Source extends OutputStream {
    private byte[] chunk;
    private int length;
    private boolean closed;

    @Override
    public void write(int b) throws IOException {
      prepare();
      chunk[length++] = (byte) b;
      if (length == chunkBytes) {
        publish();
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      while (len > 0) {
        prepare();
        int n = Math.min(len, chunkBytes - length);
        System.arraycopy(b, off, chunk, length, n);
        length += n;
        off += n;
        len -= n;
        if (length == chunkBytes) {
          publish();
        }
      }
    }

    @Override
    public void flush() throws IOException {
      if (closed) {
        throw new IOException("in-process pipe source is closed");
      }
      if (length > 0) {
        publish();
      }
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      try {
        if (length > 0) {
          publish();
        }
      } finally {
        lock.lock();
        try {
          sourceClosed = true;
          readable.signalAll();
        } finally {
          lock.unlock();
        }
      }
    }

    /** Makes sure there is a chunk with room, waiting for one if all are in use. */
    private void prepare() throws IOException {
      if (closed) {
        throw new IOException("in-process pipe source is closed");
      }
      if (chunk != null) {
        return;
      }
      lock.lock();
      try {
        while (true) {
          checkBroken(true);
          if (!free.isEmpty()) {
            chunk = free.pop();
            return;
          }
          if (allocatedChunks < maxChunks) {
            allocatedChunks++;
            break;
          }
          writable.await();
        }
      } catch (InterruptedException e) {
        throw interrupted();
      } finally {
        lock.unlock();
      }
      chunk = new byte[chunkBytes];
    }

    /** Queues the current chunk for the destination. */
    private void publish() throws IOException {
      lock.lock();
      try {
        checkBroken(true);
        int tail = (queueHead + queueSize) % maxChunks;
        queued[tail] = chunk;
        queuedLengths[tail] = length;
        queueSize++;
        readable.signal();
      } finally {
        lock.unlock();
      }
      chunk = null;
      length = 0;
    }
  }

  /** The destination side; its fields belong to the destination thread. */
  private final class Sink extends InputStream {
    private byte[] chunk;
    private int position;
    private int limit;
    private volatile boolean closed;

    @Override
    public int read() throws IOException {
      checkOpen();
      if (position == limit && !advance(true)) {
        return -1;
      }
      return chunk[position++] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      checkOpen();
      if (len == 0) {
        return 0;
      }
      int done = 0;
      while (done < len) {
        if (position == limit && !advance(done == 0)) {
          break;
        }
        int n = Math.min(len - done, limit - position);
        System.arraycopy(chunk, position, b, off + done, n);
        position += n;
        done += n;
      }
      return done == 0 ? -1 : done;
    }

    @Override
    public int available() {
      return closed ? 0 : limit - position;
    }

    @Override
    public void close() {
      closed = true;
      lock.lock();
      try {
        destinationClosed = true;
        discardQueued();
        writable.signalAll();
        readable.signalAll();
      } finally {
        lock.unlock();
      }
    }

    private void checkOpen() throws IOException {
      if (closed) {
        throw new IOException("in-process pipe destination is closed");
      }
    }

    /**
     * Gives the drained chunk back and takes the next queued one; returns false at end of input, or
     * when none is queued and {@code wait} is false.
     */
    private boolean advance(boolean wait) throws IOException {
      lock.lock();
      try {
        releaseChunk();
        while (true) {
          checkBroken(false);
          if (queueSize > 0) {
            chunk = queued[queueHead];
            limit = queuedLengths[queueHead];
            position = 0;
            queued[queueHead] = null;
            queueHead = (queueHead + 1) % maxChunks;
            queueSize--;
            return true;
          }
          if (sourceClosed || !wait) {
            return false;
          }
          readable.await();
        }
      } catch (InterruptedException e) {
        throw interrupted();
      } finally {
        lock.unlock();
      }
    }

    /** Returns the current chunk to the free list; called with the lock held. */
    private void releaseChunk() {
      if (chunk != null) {
        free.push(chunk);
        chunk = null;
        position = 0;
        limit = 0;
        writable.signal();
      }
    }
  }
}
