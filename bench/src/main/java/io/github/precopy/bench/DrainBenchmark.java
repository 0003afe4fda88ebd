package io.github.precopy.bench;

import io.github.precopy.bitmap.AtomicPageBitmap;
import io.github.precopy.bitmap.PageBitmap;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Draining the dirty log into the migration bitmap: QEMU's {@code
 * cpu_physical_memory_sync_dirty_bitmap}, run at the start of every round (swap each word of the
 * log to zero, OR it into the bitmap, count the newly set bits).
 *
 * <p>Workload: a log of {@code sizeBits} bits ({@code 2^21} or {@code 2^26}) that is either {@code
 * sparse} (99 % of the words zero, the rest random: a quiet guest drained often) or {@code dense}
 * (50 % of the bits set in runs of 1 to 63, no zero word: a write-heavy round), seeded; see {@link
 * Content#sparseLog} and {@link Content#denseLog}. The target bitmap is empty before each drain.
 * Contenders ({@link Drain}):
 *
 * <ul>
 *   <li>{@code ATOMIC_PAGE_BITMAP}: {@code AtomicPageBitmap.drainInto(PageBitmap)}, which reads
 *       zero words plainly and swaps only the non-zero ones;
 *   <li>{@code GET_AND_SET_EVERY_WORD}: the naive drain, a VarHandle {@code getAndSet(0)} on every
 *       word of a {@code long[]} (what {@code AtomicLongArray.getAndSet} does), OR-ing into a
 *       {@code long[]} target and counting newly set bits;
 *   <li>{@code READ_SWEEP}: a plain read of every word of the log, summed: the memory limit.
 * </ul>
 *
 * <p>Method: a drain empties the log, so the log is refilled and the target emptied before every
 * call in a {@code @Setup(Level.Invocation)} method, outside the measurement. The {@code long[]}
 * contenders refill with {@code System.arraycopy}; {@code AtomicPageBitmap} has no bulk load, so it
 * is refilled through its public API, one {@code markDirtyRange} per run of set bits (about two per
 * word for {@code dense}); either way every word of the log has just been written, so each drain
 * starts with the log equally hot in cache. The smallest measured call reads 32768 words (several
 * microseconds), so JMH's per-invocation timestamps cost little.
 *
 * <p>Run it with:
 *
 * <pre>{@code
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar DrainBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// A fixed, pre-touched heap (as Lucene's FixedBitSetBenchmark) so that no heap growth or first
// touch lands in a measurement. 1 GiB, not 4: the live set is a few maps of at most 8 MiB, and
// pre-touching 4 GiB took 7 s of kernel time (26 s wall when loaded) per fork on the 2-core VM.
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class DrainBenchmark {

  private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

  /** How the log is drained. */
  public enum Drain {
    ATOMIC_PAGE_BITMAP,
    GET_AND_SET_EVERY_WORD,
    READ_SWEEP
  }

  /** Bits in the log: 8 GiB and 256 GiB of 4 KiB pages. */
  @Param({"2097152", "67108864"})
  long sizeBits;

  /** {@code sparse}: 99 % of the words zero; {@code dense}: 50 % of the bits set, in runs. */
  @Param({"sparse", "dense"})
  String log;

  @Param Drain impl;

  private long[] pristine;

  private AtomicPageBitmap atomicLog;
  private PageBitmap bitmapTarget;

  private long[] wordLog;
  private long[] wordTarget;

  @Setup
  public void setUp() {
    switch (log) {
      case "sparse":
        pristine = Content.sparseLog(sizeBits);
        break;
      case "dense":
        pristine = Content.denseLog(sizeBits);
        break;
      default:
        throw new IllegalArgumentException("log must be sparse or dense: " + log);
    }
    if (impl == Drain.ATOMIC_PAGE_BITMAP) {
      atomicLog = new AtomicPageBitmap(sizeBits);
      bitmapTarget = new PageBitmap(sizeBits);
    } else {
      wordLog = new long[pristine.length];
      wordTarget = new long[pristine.length];
    }
  }

  /** Refills the log and empties the target; excluded from the measurement. */
  @Setup(Level.Invocation)
  public void refill() {
    if (impl == Drain.ATOMIC_PAGE_BITMAP) {
      bitmapTarget.clear();
      markRuns(atomicLog, pristine);
    } else {
      System.arraycopy(pristine, 0, wordLog, 0, pristine.length);
      Arrays.fill(wordTarget, 0);
    }
  }

  @Benchmark
  public long drain() {
    switch (impl) {
      case ATOMIC_PAGE_BITMAP:
        return atomicLog.drainInto(bitmapTarget);
      case GET_AND_SET_EVERY_WORD:
        return getAndSetEveryWord(wordLog, wordTarget);
      case READ_SWEEP:
        return readSweep(wordLog);
      default:
        throw new AssertionError(impl);
    }
  }

  /** The naive drain: an atomic swap of every word, zero or not. */
  static long getAndSetEveryWord(long[] log, long[] target) {
    long newlySet = 0;
    for (int i = 0; i < log.length; i++) {
      long w = (long) WORDS.getAndSet(log, i, 0L);
      long old = target[i];
      target[i] = old | w;
      newlySet += Long.bitCount(w & ~old);
    }
    return newlySet;
  }

  /** The memory limit: a plain read of every word. */
  static long readSweep(long[] log) {
    long sum = 0;
    for (long w : log) {
      sum += w;
    }
    return sum;
  }

  /** Marks every run of set bits of {@code words} dirty in {@code log}, one call per run. */
  static void markRuns(AtomicPageBitmap log, long[] words) {
    long size = (long) words.length << 6;
    long i = nextSet(words, 0, size);
    while (i < size) {
      long end = nextClear(words, i, size);
      log.markDirtyRange(i, end);
      i = nextSet(words, end, size);
    }
  }

  private static long nextSet(long[] words, long from, long size) {
    if (from >= size) {
      return size;
    }
    int u = (int) (from >>> 6);
    long w = words[u] & (-1L << from);
    while (w == 0) {
      if (++u == words.length) {
        return size;
      }
      w = words[u];
    }
    return ((long) u << 6) + Long.numberOfTrailingZeros(w);
  }

  private static long nextClear(long[] words, long from, long size) {
    if (from >= size) {
      return size;
    }
    int u = (int) (from >>> 6);
    long w = ~words[u] & (-1L << from);
    while (w == 0) {
      if (++u == words.length) {
        return size;
      }
      w = ~words[u];
    }
    return ((long) u << 6) + Long.numberOfTrailingZeros(w);
  }
}
