package io.github.precopy.core.testing;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The guest of engine tests: its memory, pages in use that the test chooses (all but those it marks
 * free), and optionally one writer thread that keeps rewriting a range of pages while the guest
 * runs. {@link #pause()} returns only once no write is in flight, as the engine requires.
 */
public final class TestGuest implements Guest, AutoCloseable {

  private final GuestMemory memory;
  private final PageBitmap[] inUse;

  /** Fair, so that pause() is not starved by the writer taking the lock back at once. */
  private final ReentrantLock gate = new ReentrantLock(true);

  private final Condition changed = gate.newCondition();
  private boolean running = true;
  private boolean closed;
  private long writes;
  private Thread writer;
  private final List<Integer> throttles = new CopyOnWriteArrayList<>();

  public TestGuest(GuestMemory memory) {
    this.memory = memory;
    this.inUse = new PageBitmap[memory.blocks().size()];
    for (int i = 0; i < inUse.length; i++) {
      inUse[i] = new PageBitmap(memory.blocks().get(i).pageCount());
      inUse[i].setRange(0, inUse[i].size());
    }
  }

  /** A guest of one block whose pages hold seeded random bytes, every eighth page zero. */
  public static TestGuest filled(long bytes, long seed) {
    TestGuest guest = new TestGuest(GuestMemory.anonymous(bytes));
    SplittableRandom random = new SplittableRandom(seed);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < bytes; address += GuestMemory.PAGE_SIZE) {
      if ((address >>> GuestMemory.PAGE_SHIFT) % 8 != 0) {
        random.nextBytes(page);
        guest.memory.write(address, page, 0, page.length);
      }
    }
    return guest;
  }

  /**
   * Starts a writer thread that, while the guest runs, stores a counter into the first 8 bytes of
   * each page of {@code [0, pages)} in turn, round after round.
   */
  public TestGuest writing(long pages) {
    gate.lock();
    try {
      if (writer != null) {
        throw new IllegalStateException("the guest already writes");
      }
      writer = new Thread(() -> write(pages), "test-guest-writer");
      writer.setDaemon(true);
      writer.start();
    } finally {
      gate.unlock();
    }
    return this;
  }

  /** One write per turn of the lock, so a pause waits for at most the write in flight. */
  private void write(long pages) {
    long page = 0;
    while (true) {
      gate.lock();
      try {
        while (!running && !closed) {
          changed.awaitUninterruptibly();
        }
        if (closed) {
          return;
        }
        memory.writeLong(page << GuestMemory.PAGE_SHIFT, ++writes);
        page = (page + 1) % pages;
        changed.signalAll();
      } finally {
        gate.unlock();
      }
    }
  }

  /**
   * Waits until the writer has written more than {@code count} times in all.
   *
   * @throws AssertionError if it has not within {@code timeout}
   */
  public void awaitWritesBeyond(long count, Duration timeout) {
    long left = timeout.toNanos();
    gate.lock();
    try {
      while (writes <= count) {
        if (left <= 0) {
          throw new AssertionError(
              "the guest wrote " + writes + " times, not more than " + count + ", in " + timeout);
        }
        left = changed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      gate.unlock();
    }
  }

  /** How many times the writer has written so far. */
  public long writes() {
    gate.lock();
    try {
      return writes;
    } finally {
      gate.unlock();
    }
  }

  public void markFree(long firstPage, long endPage) {
    inUse[0].clearRange(firstPage, endPage);
  }

  public void markInUseAndWrite(long page, byte value) {
    inUse[0].set(page);
    memory.fill(page << GuestMemory.PAGE_SHIFT, GuestMemory.PAGE_SIZE, value);
  }

  @Override
  public GuestMemory memory() {
    return memory;
  }

  @Override
  public void pause() {
    gate.lock();
    try {
      running = false;
    } finally {
      gate.unlock();
    }
  }

  @Override
  public void resume() {
    gate.lock();
    try {
      running = true;
      changed.signalAll();
    } finally {
      gate.unlock();
    }
  }

  @Override
  public boolean isRunning() {
    gate.lock();
    try {
      return running;
    } finally {
      gate.unlock();
    }
  }

  /** Records the throttle; this guest's writer does not slow down. */
  @Override
  public boolean throttle(int percent) {
    throttles.add(percent);
    return true;
  }

  /** Every throttle the engine set, in order. */
  public List<Integer> throttles() {
    return List.copyOf(throttles);
  }

  @Override
  public PageBitmap pagesInUse(RamBlock block) {
    return inUse[block.id()];
  }

  /** Stops the writer and unmaps the memory. */
  @Override
  public void close() {
    Thread stopping;
    gate.lock();
    try {
      closed = true;
      changed.signalAll();
      stopping = writer;
    } finally {
      gate.unlock();
    }
    if (stopping != null) {
      try {
        stopping.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    memory.close();
  }
}
