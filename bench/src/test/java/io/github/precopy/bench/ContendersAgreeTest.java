package io.github.precopy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.bench.DrainBenchmark.Drain;
import io.github.precopy.bench.SetBitIterationBenchmark.Walk;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

/**
 * The benchmarks compare like with like: on small maps, every contender returns what {@code
 * java.util.BitSet} says, so a fast score can never come from a wrong answer.
 */
final class ContendersAgreeTest {

  private static final long SIZE = 1 << 16;

  @Test
  void cardinalityAndCountAndClear_agreeWithBitSet() {
    long[] words = Content.random50(SIZE);
    BitSet oracle = BitSet.valueOf(words);
    long[][] ranges = {{SIZE / 4 + 3, SIZE / 4 + 3 + SIZE / 2}, {5, 60}, {64, 128}, {7, 7}};
    for (Contender contender : Contender.values()) {
      if (contender == Contender.READ_SWEEP) {
        continue; // the memory limit, not a bit count
      }
      RangeBitmap bitmap = contender.create(words, SIZE);
      for (long[] r : ranges) {
        int from = (int) r[0];
        int to = (int) r[1];
        long expected = oracle.get(from, to).cardinality();
        assertThat(bitmap.cardinality(from, to))
            .as("%s cardinality %s", contender, r)
            .isEqualTo(expected);
        assertThat(bitmap.countAndClear(from, to))
            .as("%s countAndClear", contender)
            .isEqualTo(expected);
        assertThat(bitmap.cardinality(from, to)).as("%s after clear", contender).isZero();
        bitmap.restore(from, to);
        assertThat(bitmap.cardinality(from, to)).as("%s restored", contender).isEqualTo(expected);
        bitmap.countAndClear(from, to);
        bitmap.setRange(from, to);
        assertThat(bitmap.cardinality(from, to)).as("%s setRange", contender).isEqualTo(to - from);
        bitmap.restore(from, to);
        assertThat(bitmap.cardinality(0, SIZE))
            .as("%s whole", contender)
            .isEqualTo(oracle.cardinality());
      }
    }
  }

  @Test
  void walks_agreeWithBitSet() {
    for (double density : new double[] {0.5, 0.01}) {
      long[] words = Content.random(SIZE, density);
      BitSet oracle = BitSet.valueOf(words);
      long expected = oracle.stream().asLongStream().sum();
      SetBitIterationBenchmark.Sum sum = new SetBitIterationBenchmark.Sum();
      for (Walk walk : Walk.values()) {
        Object bits = walk.build(words, SIZE);
        assertThat(walk.sum(bits, sum)).as("%s at %s", walk, density).isEqualTo(expected);
      }
    }
  }

  @Test
  void drains_agreeWithBitCount() {
    for (String log : new String[] {"sparse", "dense"}) {
      long expected = 0;
      long[] words = "sparse".equals(log) ? Content.sparseLog(SIZE) : Content.denseLog(SIZE);
      for (long w : words) {
        expected += Long.bitCount(w);
      }
      for (Drain drain : new Drain[] {Drain.ATOMIC_PAGE_BITMAP, Drain.GET_AND_SET_EVERY_WORD}) {
        DrainBenchmark benchmark = new DrainBenchmark();
        benchmark.sizeBits = SIZE;
        benchmark.log = log;
        benchmark.impl = drain;
        benchmark.setUp();
        for (int round = 0; round < 2; round++) {
          benchmark.refill();
          assertThat(benchmark.drain()).as("%s %s", drain, log).isEqualTo(expected);
        }
      }
    }
  }

  @Test
  void contents_haveTheirDensity() {
    assertThat(fraction(Content.random50(1 << 20))).isBetween(0.49, 0.51);
    assertThat(fraction(Content.random(1 << 20, 0.01))).isBetween(0.009, 0.011);
    assertThat(fraction(Content.denseLog(1 << 20))).isBetween(0.49, 0.51);
    long[] sparse = Content.sparseLog(1 << 20);
    long zeroWords = java.util.Arrays.stream(sparse).filter(w -> w == 0).count();
    assertThat((double) zeroWords / sparse.length).isBetween(0.985, 0.995);
    for (long w : Content.denseLog(1 << 20)) {
      assertThat(w).isNotZero();
    }
  }

  private static double fraction(long[] words) {
    long set = 0;
    for (long w : words) {
      set += Long.bitCount(w);
    }
    return (double) set / ((long) words.length << 6);
  }
}
