package io.github.precopy.bench;

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
 * {@code cardinality(from, to)} over half of a migration bitmap: QEMU's {@code
 * bitmap_count_one_with_offset}, which the engine calls to know how many dirty pages a RAM block
 * (or a part of one) still holds.
 *
 * <p>Workload: a map of {@code sizeBits} bits ({@code 2^21}: 8 GiB of 4 KiB pages; {@code 2^26}:
 * 256 GiB) with random 50 %-dense content from a fixed seed; the range is {@code [sizeBits / 4 + 3,
 * sizeBits / 4 + 3 + sizeBits / 2)}, so both ends fall inside a word. The range is read-only, so
 * every call sees the same bits. The contenders ({@link Contender}) are {@code PageBitmap}, {@code
 * java.util.BitSet} ({@code get(from, to).cardinality()}, which allocates), Lucene {@code
 * FixedBitSet} (a {@code Long.bitCount} loop over {@code getBits()}: 9.12 has no range count),
 * RoaringBitmap ({@code rangeCardinality}), the inline {@code long[]} loop (the ceiling) and a
 * plain read sweep over the same words (the memory limit).
 *
 * <p>Run it with:
 *
 * <pre>{@code
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar CardinalityRangeBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s
 * }</pre>
 *
 * <p>JMH settings (the same in every benchmark here): one fork per contender and size, so each call
 * site sees one class; three one-second warm-up iterations, ample for a loop this simple to reach
 * C2; five one-second measurements; a fixed, pre-touched 1 GiB heap, so that {@code BitSet}'s
 * garbage never grows the heap or first-touches memory inside a measurement.
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
public class CardinalityRangeBenchmark {

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

  @Benchmark
  public long cardinality() {
    return bitmap.cardinality(from, to);
  }
}
