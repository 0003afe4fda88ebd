package io.github.precopy.bench;

import io.github.precopy.bitmap.BitVisitor;
import io.github.precopy.bitmap.PageBitmap;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.util.FixedBitSet;
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
import org.roaringbitmap.BitSetUtil;
import org.roaringbitmap.IntConsumer;
import org.roaringbitmap.RoaringBitmap;

/**
 * Visiting every set bit of a migration bitmap: the engine's walk over dirty pages to send them
 * (QEMU's {@code migration_bitmap_find_dirty} loop).
 *
 * <p>Workload: a map of {@code sizeBits} bits ({@code 2^21} or {@code 2^26}) with each bit set with
 * probability {@code density} (0.5: a write-heavy round; 0.01: a late, nearly converged round),
 * seeded. One operation visits every set bit once and adds up the indices; the sum is returned, so
 * JMH consumes it and no visit can be skipped. Contenders ({@link Walk}): {@code
 * PageBitmap.forEachSetBit} (word-at-a-time walk with a {@code BitVisitor}), a {@code
 * PageBitmap.nextSetBit} loop, {@code BitSet.nextSetBit}, Lucene {@code FixedBitSet.nextSetBit},
 * {@code RoaringBitmap.forEach(IntConsumer)}, and the inline {@code numberOfTrailingZeros} loop
 * over a {@code long[]}. The two callback walks add into the same kind of mutable accumulator
 * ({@link Sum}).
 *
 * <p>Run it with:
 *
 * <pre>{@code
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar SetBitIterationBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s
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
public class SetBitIterationBenchmark {

  /** One way to visit every set bit, over a structure it builds from the content's words. */
  public enum Walk {
    PAGE_BITMAP_FOR_EACH {
      @Override
      Object build(long[] words, long sizeBits) {
        PageBitmap bitmap = new PageBitmap(sizeBits);
        Contender.setBits(bitmap, words, 0, sizeBits);
        return bitmap;
      }

      @Override
      long sum(Object bits, Sum sum) {
        PageBitmap bitmap = (PageBitmap) bits;
        sum.total = 0;
        bitmap.forEachSetBit(0, bitmap.size(), sum);
        return sum.total;
      }
    },

    PAGE_BITMAP_NEXT_SET_BIT {
      @Override
      Object build(long[] words, long sizeBits) {
        return PAGE_BITMAP_FOR_EACH.build(words, sizeBits);
      }

      @Override
      long sum(Object bits, Sum sum) {
        PageBitmap bitmap = (PageBitmap) bits;
        long total = 0;
        // nextSetBit(size()) is allowed and returns -1, like java.util.BitSet.
        for (long i = bitmap.nextSetBit(0); i >= 0; i = bitmap.nextSetBit(i + 1)) {
          total += i;
        }
        return total;
      }
    },

    JAVA_UTIL_BITSET_NEXT_SET_BIT {
      @Override
      Object build(long[] words, long sizeBits) {
        return BitSet.valueOf(words);
      }

      @Override
      long sum(Object bits, Sum sum) {
        BitSet bitSet = (BitSet) bits;
        long total = 0;
        for (int i = bitSet.nextSetBit(0); i >= 0; i = bitSet.nextSetBit(i + 1)) {
          total += i;
        }
        return total;
      }
    },

    LUCENE_FIXED_BITSET_NEXT_SET_BIT {
      @Override
      Object build(long[] words, long sizeBits) {
        return new FixedBitSet(words.clone(), Math.toIntExact(sizeBits));
      }

      @Override
      long sum(Object bits, Sum sum) {
        FixedBitSet bitSet = (FixedBitSet) bits;
        int length = bitSet.length();
        long total = 0;
        // nextSetBit(i) requires i < length(); it returns NO_MORE_DOCS (Integer.MAX_VALUE) at the
        // end.
        for (int i = bitSet.nextSetBit(0); i < length; ) {
          total += i;
          i = i + 1 < length ? bitSet.nextSetBit(i + 1) : length;
        }
        return total;
      }
    },

    ROARING_FOR_EACH {
      @Override
      Object build(long[] words, long sizeBits) {
        RoaringBitmap bitmap = BitSetUtil.bitmapOf(words);
        bitmap.runOptimize();
        return bitmap;
      }

      @Override
      long sum(Object bits, Sum sum) {
        sum.total = 0;
        ((RoaringBitmap) bits).forEach(sum);
        return sum.total;
      }
    },

    INLINE_TRAILING_ZEROS {
      @Override
      Object build(long[] words, long sizeBits) {
        return words.clone();
      }

      @Override
      long sum(Object bits, Sum sum) {
        return InlineBits.sumOfSetBits((long[]) bits);
      }
    };

    abstract Object build(long[] words, long sizeBits);

    /** Sum of the indices of all set bits of {@code bits}. */
    abstract long sum(Object bits, Sum sum);
  }

  /** The accumulator of both callback walks. */
  static final class Sum implements BitVisitor, IntConsumer {
    long total;

    @Override
    public boolean visit(long index) {
      total += index;
      return true;
    }

    @Override
    public void accept(int value) {
      total += value;
    }
  }

  /** Bits in the map: 8 GiB and 256 GiB of 4 KiB pages. */
  @Param({"2097152", "67108864"})
  long sizeBits;

  /** Probability that a bit is set. */
  @Param({"0.5", "0.01"})
  double density;

  @Param Walk impl;

  private Object bits;
  private final Sum sum = new Sum();

  @Setup
  public void setUp() {
    bits = impl.build(Content.random(sizeBits, density), sizeBits);
  }

  @Benchmark
  public long sumOfSetBits() {
    return impl.sum(bits, sum);
  }
}
