package io.github.precopy.stress;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.engine.RamState;
import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.GuestMemory;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The source side of one migration, built from the engine's own classes as {@code MigrationEngine}
 * builds it: a real {@link GuestMemory} of {@value #PAGES} pages (one anonymous block), the {@link
 * DirtyTracker} that {@link GuestMemory#startDirtyTracking()} hands the migration, and a real
 * {@link RamState} over both. The guest writes only through {@link GuestMemory#writeLong}, which
 * stores the value and then marks the page in the block's dirty log; the migration drains the log
 * with {@link RamState#sync()} and takes the pages to send with {@link RamState#takeDirtyPages}, as
 * {@code PrecopyMigration} does.
 *
 * <p>Each jcstress state has its own rig. Mapping a memory costs far more than the races under
 * test, so each forked VM keeps a pool of memories: {@link #close()} gives the dirty log back and
 * returns the memory for a later state, as one guest is migrated again and again. A new rig drains
 * whatever an earlier state left in the log and takes it off its fresh bitmap, so it starts with
 * nothing to send. Every value a rig writes is unique to the rig ({@link #stamp}), so a page read
 * after a drain that shows an earlier state's value is a write the drain did not see.
 */
final class RamRig implements AutoCloseable {

  static final int PAGES = 128;

  /** Idle memories: no open tracker, nothing else uses them. */
  private static final Queue<GuestMemory> IDLE = new ConcurrentLinkedQueue<>();

  /** The next rig's first stamp; each rig takes {@value #PAGES} values. */
  private static final AtomicLong STAMPS = new AtomicLong(1);

  final GuestMemory memory;
  final DirtyTracker tracker;
  final RamState ram;
  private final long firstStamp;

  RamRig() {
    GuestMemory idle = IDLE.poll();
    memory = idle != null ? idle : GuestMemory.anonymous((long) PAGES * GuestMemory.PAGE_SIZE);
    tracker = memory.startDirtyTracking();
    ram = new RamState(memory, tracker);
    firstStamp = STAMPS.getAndAdd(PAGES);
    ram.sync();
    takeDirtyPages();
    if (ram.dirtyPages() != 0 || !ram.countMatchesBitmaps()) {
      throw new IllegalStateException("a fresh RAM state has pages to send: " + ram.dirtyPages());
    }
  }

  /** The value this rig's guest writes to {@code page}: unique to the rig and the page. */
  long stamp(int page) {
    return firstStamp + page;
  }

  /** The guest writes {@code value} into the first long of {@code page}, marking it dirty. */
  void write(int page, long value) {
    memory.writeLong((long) page * GuestMemory.PAGE_SIZE, value);
  }

  /** The guest writes {@link #stamp} into {@code page}. */
  void write(int page) {
    write(page, stamp(page));
  }

  /** Whether {@code page} holds the value of {@link #write(int)}, read as the sender reads it. */
  boolean holdsStamp(int page) {
    return memory.readLong((long) page * GuestMemory.PAGE_SIZE) == stamp(page);
  }

  /**
   * Takes every page still to send off the RAM state, as the engine's send loop does, and returns
   * them as a bitmap of {@value #PAGES} bits.
   */
  PageBitmap takeDirtyPages() {
    PageBitmap taken = new PageBitmap(PAGES);
    int[] blocks = new int[PAGES];
    long[] pages = new long[PAGES];
    int count;
    while ((count = ram.takeDirtyPages(blocks, pages, PAGES)) > 0) {
      for (int i = 0; i < count; i++) {
        if (blocks[i] != 0 || taken.get(pages[i])) {
          throw new IllegalStateException(
              "page " + pages[i] + " of block " + blocks[i] + " taken twice or out of range");
        }
        taken.set(pages[i]);
      }
    }
    return taken;
  }

  /**
   * DESIGN §5.2: the RAM state's count equals its bitmaps' popcount, and it has nothing left to
   * send (call after {@link #takeDirtyPages}).
   */
  boolean countsConsistentAndEmpty() {
    return ram.countMatchesBitmaps() && ram.dirtyPages() == 0;
  }

  /** Gives the dirty log back (the migration ended) and returns the memory for a later state. */
  @Override
  public void close() {
    tracker.close();
    IDLE.add(memory);
  }
}
