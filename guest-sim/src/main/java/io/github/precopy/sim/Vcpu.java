package io.github.precopy.sim;

import io.github.precopy.core.memory.GuestMemory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * One virtual CPU of a {@link SimulatedGuest} as its {@link VcpuProgram} sees it: the guest's
 * memory and page allocator, a seeded random source, helpers that write non-zero, ever-changing
 * data through {@link GuestMemory} (so every write marks its pages dirty), and {@link #idleUntil},
 * the vCPU's halt instruction.
 *
 * <p>Written data: every page written whole carries its guest-physical address, a per-vCPU sequence
 * number and a random word, on top of the workload's content (by default per-vCPU random filler;
 * see {@link PageContent}), so no two writes leave a page with the same contents and a page copied
 * from the wrong place or the wrong time shows up as a mismatch.
 *
 * <p>Units: addresses are guest-physical bytes; work is counted in bytes of pages written, 4 KiB
 * for every page a write touches, whole or in part (the unit of a dirty rate).
 *
 * <p>Thread-safety: confined to the vCPU's own thread, except that {@link SimulatedGuest} reads the
 * work counter from any thread.
 */
public final class Vcpu {

  /** QEMU's {@code CPU_THROTTLE_TIMESLICE_NS}: 10 ms of running between two throttle halts. */
  static final long THROTTLE_SLICE_NANOS = 10_000_000;

  /** Pages the write template holds: the largest single memory write of {@link #writePages}. */
  static final int TEMPLATE_PAGES = 16;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
  private static final int LONGS_PER_PAGE = GuestMemory.PAGE_SIZE / Long.BYTES;

  private final int index;
  private final int count;
  private final GuestMemory memory;
  private final BuddyAllocator allocator;
  private final SplittableRandom random;
  private final RunGate gate;
  private final byte[] template = new byte[TEMPLATE_PAGES * GuestMemory.PAGE_SIZE];
  private final byte[] oneByte = new byte[1];
  private long sequence;

  /** The pages whole-page writes copy from; null for the random filler of {@link #template}. */
  private PageContent content;

  private volatile long work;

  /** When the throttle next halts this vCPU ({@link System#nanoTime()}); 0 while unthrottled. */
  private long throttleDueNanos;

  /** Whether the vCPU is inside a piece of guest work; see {@link RunGate}. */
  volatile boolean inStep;

  Vcpu(
      int index,
      int count,
      GuestMemory memory,
      BuddyAllocator allocator,
      SplittableRandom random,
      RunGate gate) {
    this.index = index;
    this.count = count;
    this.memory = memory;
    this.allocator = allocator;
    this.random = random;
    this.gate = gate;
    random.nextBytes(template);
  }

  /** This vCPU's index, from 0; its thread is named {@code vcpu-<index>}. */
  public int index() {
    return index;
  }

  /** Number of vCPUs of the guest. */
  public int count() {
    return count;
  }

  /** The guest's memory. */
  public GuestMemory memory() {
    return memory;
  }

  /** The guest's page allocator. */
  public BuddyAllocator allocator() {
    return allocator;
  }

  /** This vCPU's random source, split from the guest's seed. */
  public SplittableRandom random() {
    return random;
  }

  /**
   * Writes {@code pages} whole pages starting at page-aligned {@code address} with fresh data, in
   * bulk writes of up to 64 KiB. The range must lie inside one RAM block.
   */
  public void writePages(long address, long pages) {
    long at = address;
    long left = pages;
    while (left > 0) {
      int n = (int) Math.min(left, TEMPLATE_PAGES);
      for (int i = 0; i < n; i++) {
        int base = i * GuestMemory.PAGE_SIZE;
        if (content != null) {
          content.copyPage(random, template, base);
        }
        LONGS.set(template, base, at + ((long) i << GuestMemory.PAGE_SHIFT));
        LONGS.set(template, base + Long.BYTES, (++sequence << 16) | index);
        int slot = 2 + random.nextInt(LONGS_PER_PAGE - 2);
        LONGS.set(template, base + slot * Long.BYTES, random.nextLong() | 1);
      }
      int bytes = n * GuestMemory.PAGE_SIZE;
      memory.write(at, template, 0, bytes);
      work += bytes;
      at += bytes;
      left -= n;
    }
  }

  /**
   * Writes {@code longs} random non-zero words at random aligned offsets of the page holding {@code
   * address}: a partial page write, such as a counter update or a log line.
   */
  public void writeWithinPage(long address, int longs) {
    long page = address & -GuestMemory.PAGE_SIZE;
    for (int i = 0; i < longs; i++) {
      long offset = (long) random.nextInt(LONGS_PER_PAGE) * Long.BYTES;
      memory.writeLong(page + offset, random.nextLong() | 1);
    }
    work += GuestMemory.PAGE_SIZE;
  }

  /**
   * Increments the byte at every {@code stride} bytes of the page holding {@code address}, from its
   * first byte: a sparse update of a few bytes, each wrapping from 0xff to 0.
   */
  void incrementBytes(long address, int stride) {
    long page = address & -GuestMemory.PAGE_SIZE;
    for (int offset = 0; offset < GuestMemory.PAGE_SIZE; offset += stride) {
      memory.read(page + offset, oneByte, 0, 1);
      oneByte[0]++;
      memory.write(page + offset, oneByte, 0, 1);
    }
    work += GuestMemory.PAGE_SIZE;
  }

  /** Makes whole-page writes copy from {@code content}; null for the random filler. */
  void content(PageContent content) {
    this.content = content;
  }

  /**
   * Halts this vCPU until {@link System#nanoTime()} reaches {@code deadlineNanos}: the vCPU is at a
   * safe point meanwhile, so the guest may be paused; if it is paused when the deadline passes,
   * this returns only after it is resumed.
   */
  public void idleUntil(long deadlineNanos) {
    inStep = false;
    long remaining;
    while (!gate.stopping() && (remaining = deadlineNanos - System.nanoTime()) > 0) {
      LockSupport.parkNanos(remaining);
    }
    gate.enter(this);
  }

  /**
   * Runs one step of {@code program}, then, as QEMU's {@code cpu_throttle_thread}, halts the vCPU
   * for {@code percent / (100 - percent)} of a {@value #THROTTLE_SLICE_NANOS} ns slice once a slice
   * of wall time has passed since the last halt: throttled, a vCPU has {@code 100 - percent} of the
   * time, whether it works or idles in it (a paced workload so loses its share too).
   */
  void step(VcpuProgram program, int throttlePercent) {
    program.step();
    inStep = false;
    if (throttlePercent == 0) {
      throttleDueNanos = 0;
      return;
    }
    long now = System.nanoTime();
    if (throttleDueNanos == 0) {
      throttleDueNanos = now + THROTTLE_SLICE_NANOS;
    } else if (now - throttleDueNanos >= 0) {
      idleUntil(now + THROTTLE_SLICE_NANOS * throttlePercent / (100 - throttlePercent));
      inStep = false;
      throttleDueNanos = System.nanoTime() + THROTTLE_SLICE_NANOS;
    }
  }

  /** Bytes of pages this vCPU has written. */
  long workDone() {
    return work;
  }
}
