package io.github.precopy.bench;

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
 * Count-and-clear of half of a migration bitmap: what the engine does when a large free range (or a
 * discarded RAM block) is dropped from the bitmap and the dirty-page counter must fall by exactly
 * the number of bits that were set.
 *
 * <p>Workload: the same map, content and range as {@link CardinalityRangeBenchmark} ({@code
 * sizeBits} of {@code 2^21} or {@code 2^26}, random 50 %-dense, {@code [sizeBits / 4 + 3, sizeBits
 * / 4 + 3 + sizeBits / 2)}). Each contender does its best count-and-clear ({@link Contender}):
 * {@code PageBitmap.clearRange} (one pass, returns the count); the inline loop (one pass); {@code
 * BitSet}: {@code get(from, to).cardinality()} (allocates) then {@code clear(from, to)}; {@code
 * FixedBitSet}: a {@code bitCount} loop over {@code getBits()} then {@code clear(from, to)};
 * Roaring: {@code rangeCardinality} then {@code remove(from, to)}; and a read-and-zero sweep of the
 * same words as the memory limit.
 *
 * <p>Method: a count-and-clear destroys its input, so the range is put back before every call in a
 * {@code @Setup(Level.Invocation)} method, outside the measurement ({@link RangeBitmap#restore}: an
 * array copy for the {@code long[]}-backed contenders, a clone of the pristine map for {@code
 * BitSet} and Roaring, and, through its public API only, {@code clearRange} plus one {@code set}
 * per pristine bit for {@code PageBitmap}). Every restore writes every word of the range, so each
 * measured call starts with the range equally hot in cache. The smallest measured call clears
 * {@code 2^20} bits (16384 words, several microseconds), so JMH's per-invocation timestamps cost
 * well under 1 %.
 *
 * <p>Run it with:
 *
 * <pre>{@code
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar ClearRangeBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s
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
public class ClearRangeBenchmark {

  /** Bits in the map: 8 GiB and 256 GiB of 4 KiB pages. */
  @Param({"2097152", "67108864"})
  long sizeBits;

  @Param Contender impl;

  private RangeBitmap bitmap;
  private long from;
  private long to;

  @Setup
  public void setUp() {
    bitmap = impl.create(Content.random50(sizeBits), sizeBits);
    from = sizeBits / 4 + 3;
    to = from + sizeBits / 2;
  }

  /** Puts the range back; excluded from the measurement. */
  @Setup(Level.Invocation)
  public void restore() {
    bitmap.restore(from, to);
  }

  @Benchmark
  public long countAndClear() {
    return bitmap.countAndClear(from, to);
  }
}
