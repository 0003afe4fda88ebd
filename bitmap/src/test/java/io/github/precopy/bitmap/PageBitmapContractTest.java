package io.github.precopy.bitmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Drives every {@link PageBitmap} operation against {@link BitSet} as the oracle. */
final class PageBitmapContractTest {

  private static final long SEED = TestSeeds.baseSeed(PageBitmapContractTest.class);

  private static final long[] SIZES = {0, 1, 63, 64, 65, 4095, 4096, 4097, (1L << 21) + 3};
  private static final double[] DENSITIES = {0, 0.01, 0.1, 0.5, 0.9, 0.99, 1};

  static Stream<Arguments> sizesAndDensities() {
    List<Arguments> cases = new ArrayList<>();
    for (long size : SIZES) {
      for (double density : DENSITIES) {
        cases.add(Arguments.of(size, density));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "size {0}, density {1}")
  @MethodSource("sizesAndDensities")
  void randomOperationSequencesMatchBitSet(long size, double density) {
    Sequence sequence = new Sequence(size, density);
    sequence.assertSameBits("after fill");
    boolean large = size > 100_000;
    int operations = large ? 300 : 2_000;
    int checkEvery = large ? 50 : 1;
    for (int op = 0; op < operations; op++) {
      sequence.op = op;
      sequence.step();
      if (op % checkEvery == 0) {
        sequence.assertSameBits("after step");
      }
    }
    sequence.assertSameBits("at the end");
  }

  @ParameterizedTest(name = "size {0}, density {1}")
  @MethodSource("sizesAndDensities")
  void scansFromEveryBoundaryMatchBitSet(long size, double density) {
    Sequence sequence = new Sequence(size, density);
    for (long from : boundaries(size)) {
      sequence.checkNextSetBit(from);
      sequence.checkNextClearBit(from);
      for (long to : boundaries(size)) {
        if (from <= to) {
          sequence.checkCardinality(from, to);
        }
        if (from <= to && to - from <= 4096) {
          sequence.checkForEachSetBit(from, to, Integer.MAX_VALUE);
          sequence.checkForEachSetBit(from, to, 1);
        }
      }
    }
    sequence.checkForEachSetBit(0, size, Integer.MAX_VALUE);
    assertThat(sequence.bitmap.cardinality())
        .as("seed %d size %d density %s: cardinality()", SEED, size, density)
        .isEqualTo(sequence.oracle.cardinality());
  }

  @Test
  void rangeOperationsMatchBitSetForEveryRangeOfASmallBitmap() {
    int size = 193;
    SplittableRandom random = new SplittableRandom(TestSeeds.derive(SEED, size));
    BitSet pattern = new BitSet();
    for (int i = 0; i < size; i++) {
      if (random.nextBoolean()) {
        pattern.set(i);
      }
    }
    for (int from = 0; from <= size; from++) {
      for (int to = from; to <= size; to++) {
        String where = String.format("seed %d size %d range [%d, %d)", SEED, size, from, to);
        PageBitmap bitmap = bitmapOf(pattern, size);
        int expected = pattern.get(from, to).cardinality();
        assertThat(bitmap.cardinality(from, to)).as("%s cardinality", where).isEqualTo(expected);

        assertThat(bitmap.clearRange(from, to)).as("%s clearRange", where).isEqualTo(expected);
        BitSet cleared = (BitSet) pattern.clone();
        cleared.clear(from, to);
        assertThat(bitmap.words)
            .as("%s words after clearRange", where)
            .isEqualTo(words(cleared, bitmap.words.length));

        bitmap = bitmapOf(pattern, size);
        assertThat(bitmap.setRange(from, to))
            .as("%s setRange", where)
            .isEqualTo((to - from) - expected);
        BitSet set = (BitSet) pattern.clone();
        set.set(from, to);
        assertThat(bitmap.words)
            .as("%s words after setRange", where)
            .isEqualTo(words(set, bitmap.words.length));
      }
    }
  }

  @Test
  void countOfAnEmptyRangeIsZeroEvenInsideAFullWord() {
    PageBitmap bitmap = new PageBitmap(128);
    bitmap.setRange(0, 128);

    assertThat(bitmap.cardinality(0, 0)).isZero();
    assertThat(bitmap.cardinality(64, 64)).isZero();
    assertThat(bitmap.cardinality(128, 128)).isZero();
    assertThat(bitmap.clearRange(70, 70)).isZero();
    assertThat(bitmap.cardinality()).isEqualTo(128);
  }

  @Test
  void ghostBitsOfTheLastWordStayClear() {
    PageBitmap bitmap = new PageBitmap(65);

    assertThat(bitmap.setRange(0, 65)).isEqualTo(65);

    assertThat(bitmap.words).containsExactly(-1L, 1L);
    assertThat(bitmap.cardinality()).isEqualTo(65);
    assertThat(bitmap.nextClearBit(0)).isEqualTo(-1);
    assertThat(bitmap.nextClearBit(64)).isEqualTo(-1);
  }

  @Test
  void visitorMayClearTheBitItIsVisiting() {
    PageBitmap bitmap = new PageBitmap(300);
    bitmap.setRange(10, 200);
    List<Long> visited = new ArrayList<>();

    long count =
        bitmap.forEachSetBit(
            0,
            300,
            index -> {
              assertThat(bitmap.testAndClear(index)).isTrue();
              return visited.add(index);
            });

    assertThat(count).isEqualTo(190);
    assertThat(visited).hasSize(190).first().isEqualTo(10L);
    assertThat(visited).last().isEqualTo(199L);
    assertThat(bitmap.cardinality()).isZero();
  }

  @Test
  void walkStopsAtTheFirstFalseAndCountsThatCall() {
    PageBitmap bitmap = new PageBitmap(256);
    bitmap.setRange(60, 70);
    List<Long> visited = new ArrayList<>();

    long count = bitmap.forEachSetBit(0, 256, index -> visited.add(index) && index < 64);

    assertThat(count).isEqualTo(5);
    assertThat(visited).containsExactly(60L, 61L, 62L, 63L, 64L);
  }

  @Test
  void clearingTheWholeBitmapLeavesNoBitSet() {
    PageBitmap bitmap = new PageBitmap(4097);
    bitmap.setRange(3, 4097);

    bitmap.clear();

    assertThat(bitmap.cardinality()).isZero();
    assertThat(bitmap.nextSetBit(0)).isEqualTo(-1);
    assertThat(bitmap.size()).isEqualTo(4097);
  }

  /** One bitmap and its oracle, plus a random operation generator. */
  private static final class Sequence {
    final long size;
    final double density;
    final SplittableRandom random;
    final PageBitmap bitmap;
    final BitSet oracle = new BitSet();
    int op = -1;

    Sequence(long size, double density) {
      this.size = size;
      this.density = density;
      this.random =
          new SplittableRandom(TestSeeds.derive(SEED, size, Double.doubleToLongBits(density)));
      this.bitmap = new PageBitmap(size);
      for (int i = 0; i < size; i++) {
        if (density == 1 || (density > 0 && random.nextDouble() < density)) {
          bitmap.set(i);
          oracle.set(i);
        }
      }
    }

    /** The assertion description, formatted only when an assertion fails. */
    Supplier<String> where(String format, Object... args) {
      int step = op;
      return () ->
          String.format("seed %d size %d density %s op %d: ", SEED, size, density, step)
              + String.format(format, args);
    }

    void step() {
      int choice = random.nextInt(12);
      if (size == 0 && choice < 4) {
        choice += 4;
      }
      switch (choice) {
        case 0 -> {
          long i = index();
          assertThat(bitmap.get(i)).as(where("get(%d)", i)).isEqualTo(oracle.get((int) i));
        }
        case 1 -> {
          long i = index();
          bitmap.set(i);
          oracle.set((int) i);
        }
        case 2 -> {
          long i = index();
          bitmap.clear(i);
          oracle.clear((int) i);
        }
        case 3 -> {
          long i = index();
          boolean expected = oracle.get((int) i);
          oracle.clear((int) i);
          assertThat(bitmap.testAndClear(i)).as(where("testAndClear(%d)", i)).isEqualTo(expected);
        }
        case 4 -> {
          long[] range = range();
          checkCardinality(range[0], range[1]);
          assertThat(bitmap.cardinality())
              .as(where("cardinality()"))
              .isEqualTo(oracle.cardinality());
        }
        case 5 -> {
          long[] range = range();
          int before = oracle.cardinality();
          oracle.set((int) range[0], (int) range[1]);
          assertThat(bitmap.setRange(range[0], range[1]))
              .as(where("setRange(%d, %d)", range[0], range[1]))
              .isEqualTo(oracle.cardinality() - before);
        }
        case 6 -> {
          long[] range = range();
          int before = oracle.cardinality();
          oracle.clear((int) range[0], (int) range[1]);
          assertThat(bitmap.clearRange(range[0], range[1]))
              .as(where("clearRange(%d, %d)", range[0], range[1]))
              .isEqualTo(before - oracle.cardinality());
        }
        case 7 -> checkNextSetBit(from());
        case 8 -> checkNextClearBit(from());
        case 9 -> {
          long[] range = range();
          int[] limits = {1, 2, 3, 64, Integer.MAX_VALUE};
          checkForEachSetBit(range[0], range[1], limits[random.nextInt(limits.length)]);
        }
        case 10 -> {
          long[] range = range();
          int expected = oracle.get((int) range[0], (int) range[1]).cardinality();
          oracle.clear((int) range[0], (int) range[1]);
          long[] notSet = {0};
          long visited =
              bitmap.forEachSetBit(
                  range[0],
                  range[1],
                  index -> {
                    if (!bitmap.testAndClear(index)) {
                      notSet[0]++;
                    }
                    return true;
                  });
          Supplier<String> call = where("forEachSetBit(%d, %d, testAndClear)", range[0], range[1]);
          assertThat(visited).as(call).isEqualTo(expected);
          assertThat(notSet[0]).as(() -> call.get() + " visited clear bits").isZero();
        }
        default -> {
          if (random.nextInt(20) == 0) {
            bitmap.clear();
            oracle.clear();
          }
        }
      }
    }

    void checkCardinality(long from, long to) {
      assertThat(bitmap.cardinality(from, to))
          .as(where("cardinality(%d, %d)", from, to))
          .isEqualTo(oracle.get((int) from, (int) to).cardinality());
    }

    void checkNextSetBit(long from) {
      assertThat(bitmap.nextSetBit(from))
          .as(where("nextSetBit(%d)", from))
          .isEqualTo(oracle.nextSetBit((int) from));
    }

    void checkNextClearBit(long from) {
      long expected = from == size ? -1 : oracle.nextClearBit((int) from);
      assertThat(bitmap.nextClearBit(from))
          .as(where("nextClearBit(%d)", from))
          .isEqualTo(expected < size ? expected : -1);
    }

    /** Walks {@code [from, to)}, stopping after {@code limit} visits, against the oracle. */
    void checkForEachSetBit(long from, long to, int limit) {
      long[] state = {from, 0, -1}; // next expected search start, visits, first wrong index
      long result =
          bitmap.forEachSetBit(
              from,
              to,
              index -> {
                long expected = oracle.nextSetBit((int) state[0]);
                if (index != expected && state[2] < 0) {
                  state[2] = index;
                }
                state[0] = index + 1;
                return ++state[1] < limit;
              });
      Supplier<String> call = where("forEachSetBit(%d, %d, limit %d)", from, to, limit);
      int inRange = oracle.get((int) from, (int) to).cardinality();
      assertThat(state[2]).as(() -> call.get() + " first index out of order").isEqualTo(-1);
      assertThat(state[1]).as(() -> call.get() + " visits").isEqualTo(Math.min(limit, inRange));
      assertThat(result).as(() -> call.get() + " return value").isEqualTo(state[1]);
    }

    void assertSameBits(String when) {
      long[] expected = words(oracle, bitmap.words.length);
      int mismatch = Arrays.mismatch(bitmap.words, expected);
      assertThat(mismatch)
          .as(
              where(
                  "%s, first differing word %d: %s",
                  when,
                  mismatch,
                  mismatch < 0
                      ? ""
                      : Long.toHexString(bitmap.words[mismatch])
                          + " != "
                          + Long.toHexString(expected[mismatch])))
          .isEqualTo(-1);
    }

    /** A valid bit index, often on or next to a word boundary. */
    long index() {
      return random.nextBoolean() ? Math.min(size - 1, boundary()) : random.nextLong(size);
    }

    /** A valid scan start in {@code [0, size]}. */
    long from() {
      return random.nextBoolean() ? boundary() : random.nextLong(size + 1);
    }

    /** A valid range, often empty, short, or with ends on word boundaries. */
    long[] range() {
      long a = from();
      long b =
          switch (random.nextInt(4)) {
            case 0 -> a;
            case 1 -> Math.min(size, a + random.nextInt(130));
            case 2 -> boundary();
            default -> random.nextLong(size + 1);
          };
      return new long[] {Math.min(a, b), Math.max(a, b)};
    }

    /** A point in {@code [0, size]} on or next to a word boundary or an end. */
    private long boundary() {
      long[] points = boundaries(size);
      return points[random.nextInt(points.length)];
    }
  }

  /** Points in {@code [0, size]} where word masks change: 0, 63, 64, 65, ..., size. */
  private static long[] boundaries(long size) {
    return LongStream.of(
            0, 1, 63, 64, 65, 127, 128, 129, size - 65, size - 64, size - 63, size - 1, size)
        .map(point -> Math.max(0, Math.min(size, point)))
        .distinct()
        .sorted()
        .toArray();
  }

  private static PageBitmap bitmapOf(BitSet bits, int size) {
    PageBitmap bitmap = new PageBitmap(size);
    bits.stream().forEach(bitmap::set);
    return bitmap;
  }

  private static long[] words(BitSet bits, int length) {
    return Arrays.copyOf(bits.toLongArray(), length);
  }
}
