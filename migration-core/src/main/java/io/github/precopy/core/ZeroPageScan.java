package io.github.precopy.core;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Finds the zero pages of a batch. A page never written is zero without a read; a page that was
 * written must be read whole to be found zero, which bounds a guest of resident zero pages by the
 * memory bandwidth of one core. When the previous batch held many such pages, this scan gives half
 * of the batch's reads to a helper thread, so that two cores read at once (QEMU's migration thread
 * scans alone). A batch of data pages needs no help: its pages differ from zero in their first
 * bytes.
 *
 * <p>Used by the migration thread only; {@link #close()} stops the helper. The helper reads pages
 * whose dirty bits the migration has already taken, exactly as the migration thread would: a write
 * racing with the scan marks the page dirty again, and it is sent again.
 */
final class ZeroPageScan implements AutoCloseable {

  /** Resident zero pages in the previous batch from which the next batch is split. */
  static final int SPLIT_FROM = 64;

  private final List<RamBlock> ramBlocks;
  private Thread owner;
  private Thread helper;

  private int[] blocks;
  private long[] pages;
  private boolean[] zero;
  private int from;
  private int to;

  /** Set by the owner to hand over a range, cleared by the helper once it is scanned. */
  private volatile boolean pending;

  private volatile boolean closed;
  private volatile Throwable helperFailure;
  private int residentZeroLastBatch;

  ZeroPageScan(List<RamBlock> ramBlocks) {
    this.ramBlocks = ramBlocks;
  }

  /**
   * Sets {@code zero[i]} for each of the first {@code count} pages of the batch: whether page
   * {@code pages[i]} of block {@code blocks[i]} holds only zero bytes.
   */
  void scan(int[] blocks, long[] pages, int count, boolean[] zero) {
    int mid = count / 2;
    boolean split = residentZeroLastBatch >= SPLIT_FROM && count >= 2 * SPLIT_FROM;
    if (split) {
      handOver(blocks, pages, zero, mid, count);
    }
    scanRange(blocks, pages, zero, 0, split ? mid : count);
    if (split) {
      awaitHelper();
    }
    int residentZero = 0;
    for (int i = 0; i < count; i++) {
      if (zero[i] && ramBlocks.get(blocks[i]).isWritten(pages[i])) {
        residentZero++;
      }
    }
    residentZeroLastBatch = residentZero;
  }

  private void scanRange(int[] blocks, long[] pages, boolean[] zero, int start, int end) {
    for (int i = start; i < end; i++) {
      zero[i] = ramBlocks.get(blocks[i]).isZeroPage(pages[i]);
    }
  }

  private void handOver(int[] blocks, long[] pages, boolean[] zero, int start, int end) {
    if (helper == null) {
      owner = Thread.currentThread();
      helper = new Thread(this::help, owner.getName() + "-zero-scan");
      helper.setDaemon(true);
      helper.start();
    }
    this.blocks = blocks;
    this.pages = pages;
    this.zero = zero;
    this.from = start;
    this.to = end;
    pending = true;
    LockSupport.unpark(helper);
  }

  /** Waits for the helper's half; rethrows, here, what the helper threw (a memory fault). */
  private void awaitHelper() {
    while (pending) {
      LockSupport.park(this);
    }
    Throwable failure = helperFailure;
    if (failure instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (failure instanceof Error error) {
      throw error;
    }
  }

  private void help() {
    while (!closed) {
      if (!pending) {
        LockSupport.park(this);
        continue;
      }
      try {
        scanRange(blocks, pages, zero, from, to);
        GuestMemory.checkPendingFault();
      } catch (RuntimeException | Error e) {
        helperFailure = e;
      }
      pending = false;
      LockSupport.unpark(owner);
    }
  }

  /** Stops the helper thread, if one was started. Idempotent. */
  @Override
  public void close() {
    closed = true;
    if (helper != null) {
      LockSupport.unpark(helper);
    }
  }
}
