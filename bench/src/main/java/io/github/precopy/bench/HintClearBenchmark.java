package io.github.precopy.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hint-sized case: count-and-clear of one 4 MiB free block (1024 pages of 4 KiB, the balloon
 * driver's max-order block), as {@code FreePageSink.freePageHint} does for each hint.
 *
 * <p>Workload: a map of {@code sizeBits} bits ({@code 2^21} or {@code 2^26}) with every bit set, as
 * the migration bitmap is in the bulk round when hints arrive; the range is 1024 bits at a
 * 1024-aligned offset drawn from 4096 seeded random offsets, taken in turn. One operation is
 * <b>count-and-clear, then set</b> of that range: the count-and-clear is the hint, and the {@code
 * setRange} right after it puts the range back, so the map is identical before every operation and
 * no library's internal form drifts (Roaring's containers would otherwise empty and be dropped as
 * the run goes on). Every contender does the same three steps; a 1024-bit range is too small (16
 * words, tens of nanoseconds) for a per-invocation setup, so the refill is measured and the score
 * is set + count + clear, with the same refill for every contender. Contenders: {@code PageBitmap}
 * ({@code clearRange}, {@code setRange}), the inline loop, {@code BitSet}, {@code FixedBitSet} and
 * Roaring, each as described in {@link Contender}.
 *
 * <p>Run it with:
 *
 * <pre>{@code
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar HintClearBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s
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
public class HintClearBenchmark {

  /** Pages in one hint: a 4 MiB block of 4 KiB pages. */
  static final int HINT_BITS = 1024;

  /** Distinct offsets cycled through; a power of two. */
  private static final int OFFSETS = 4096;

  /** Bits in the map: 8 GiB and 256 GiB of 4 KiB pages. */
  @Param({"2097152", "67108864"})
  long sizeBits;

  @Param({
    "PAGE_BITMAP",
    "INLINE_LOOP",
    "JAVA_UTIL_BITSET",
    "LUCENE_FIXED_BITSET",
    "ROARING_BITMAP"
  })
  Contender impl;

  private RangeBitmap bitmap;
  private final long[] offsets = new long[OFFSETS];
  private int next;

  @Setup
  public void setUp() {
    bitmap = impl.create(Content.allOnes(sizeBits), sizeBits);
    SplittableRandom random = new SplittableRandom(Content.SEED);
    long blocks = sizeBits / HINT_BITS;
    for (int i = 0; i < OFFSETS; i++) {
      offsets[i] = random.nextLong(blocks) * HINT_BITS;
    }
  }

  @Benchmark
  public long countClearAndSet() {
    long from = offsets[next++ & (OFFSETS - 1)];
    long to = from + HINT_BITS;
    long cleared = bitmap.countAndClear(from, to);
    bitmap.setRange(from, to);
    return cleared;
  }
}
