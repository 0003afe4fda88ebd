package io.github.precopy.core.transport;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.engine.Connection;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamWriter;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A destination in this process: a thread decoding the stream from a bounded pipe into its own
 * memory, then a byte-for-byte comparison of the pages in use at switch-over.
 */
final class InProcessConnection implements Connection {

  /** Pipe capacity: enough to keep both threads busy, small next to any guest. */
  private static final int PIPE_BYTES = 8 << 20;

  /** The destination has this long after the end of stream to apply what is in the pipe. */
  private static final long DRAIN_TIMEOUT_SECONDS = 300;

  /** A broken pipe stops the destination within one page; this bounds the wait for it. */
  private static final long STOP_TIMEOUT_SECONDS = 30;

  private final GuestMemory source;
  private final GuestMemory destination;
  private final InProcessPipe pipe = new InProcessPipe(PIPE_BYTES);
  private final CompletableFuture<Void> received = new CompletableFuture<>();

  InProcessConnection(GuestMemory source, GuestMemory destination) {
    checkSameLayout(source, destination);
    this.source = source;
    this.destination = destination;
    Thread thread =
        new Thread(
            () -> {
              try (InputStream in = pipe.destination()) {
                new Destination(destination).receive(in);
                received.complete(null);
              } catch (Throwable e) {
                received.completeExceptionally(e);
                pipe.abort(e);
              }
            },
            "precopy-destination");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public MigrationStreamWriter open() {
    return new MigrationStreamWriter(pipe.source());
  }

  @Override
  public boolean remote() {
    return false;
  }

  /** Closes the pipe and waits, bounded, until the destination has applied everything in it. */
  @Override
  public void finish() throws Exception {
    pipe.source().close();
    try {
      received.get(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IOException("destination failed: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("destination did not finish within " + DRAIN_TIMEOUT_SECONDS + " s", e);
    }
  }

  @Override
  public Verified verify(PageBitmap[] inUse) {
    List<RamBlock> sourceBlocks = source.blocks();
    List<RamBlock> destinationBlocks = destination.blocks();
    long checked = 0;
    long mismatches = 0;
    for (int i = 0; i < sourceBlocks.size(); i++) {
      RamBlock from = sourceBlocks.get(i);
      RamBlock to = destinationBlocks.get(i);
      PageBitmap pages = inUse[i];
      long count = from.pageCount();
      for (long page = 0; page < count; page++) {
        if (pages == null || pages.get(page)) {
          checked++;
          if (!from.samePage(page, to)) {
            mismatches++;
          }
        }
      }
    }
    return new Verified(checked, mismatches);
  }

  @Override
  public void abort(Throwable cause) {
    pipe.abort(cause);
  }

  /** Breaks the pipe and waits, bounded, until the destination thread has stopped. */
  @Override
  public Throwable stop(Throwable failure) {
    abort(failure);
    try {
      received.handle((ok, error) -> null).get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "destination still running " + STOP_TIMEOUT_SECONDS + " s after the pipe broke", e);
    }
    return failure;
  }

  private static void checkSameLayout(GuestMemory source, GuestMemory destination) {
    List<RamBlock> a = source.blocks();
    List<RamBlock> b = destination.blocks();
    boolean same = a.size() == b.size();
    for (int i = 0; same && i < a.size(); i++) {
      same =
          a.get(i).name().equals(b.get(i).name())
              && a.get(i).guestAddress() == b.get(i).guestAddress()
              && a.get(i).usedLength() == b.get(i).usedLength();
    }
    if (!same) {
      throw new IllegalArgumentException(
          "destination RAM layout " + b + " differs from the source's " + a);
    }
  }
}
