package io.github.precopy.bitmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Single-threaded behaviour of {@link AtomicPageBitmap} against {@link BitSet} oracles. */
final class AtomicPageBitmapTest {

  private static final long SEED = TestSeeds.baseSeed(AtomicPageBitmapTest.class);

  @ParameterizedTest(name = "size {0}")
  @ValueSource(longs = {0, 1, 63, 64, 65, 4097, (1 << 16) + 5})
  void marksAndDrainsMatchBitSet(long size) {
    SplittableRandom random = new SplittableRandom(TestSeeds.derive(SEED, size));
    AtomicPageBitmap log = new AtomicPageBitmap(size);
    PageBitmap target = new PageBitmap(size);
    BitSet logOracle = new BitSet();
    BitSet targetOracle = new BitSet();
    for (int op = 0; op < 3_000; op++) {
      String where = String.format("seed %d size %d op %d", SEED, size, op);
      int choice = random.nextInt(size == 0 ? 3 : 8);
      switch (choice) {
        case 0 -> {
          long[] range = range(random, size);
          log.markDirtyRange(range[0], range[1]);
          logOracle.set((int) range[0], (int) range[1]);
        }
        case 1 -> {
          long expected = newBits(logOracle, targetOracle);
          targetOracle.or(logOracle);
          logOracle.clear();
          assertThat(log.drainInto(target)).as("%s drainInto", where).isEqualTo(expected);
          assertThat(target.words)
              .as("%s target after drain", where)
              .isEqualTo(words(targetOracle, target.words.length));
          assertThat(log.cardinality()).as("%s log after drain", where).isZero();
        }
        case 2 ->
            assertThat(log.cardinality())
                .as("%s cardinality", where)
                .isEqualTo(logOracle.cardinality());
        case 3, 4 -> {
          long i = random.nextLong(size);
          log.markDirty(i);
          logOracle.set((int) i);
        }
        case 5 -> {
          long i = random.nextLong(size);
          assertThat(log.isDirty(i))
              .as("%s isDirty(%d)", where, i)
              .isEqualTo(logOracle.get((int) i));
        }
        case 6 -> {
          long i = random.nextLong(size);
          target.set(i);
          targetOracle.set((int) i);
        }
        default -> {
          long[] range = range(random, size);
          target.clearRange(range[0], range[1]);
          targetOracle.clear((int) range[0], (int) range[1]);
        }
      }
    }
    for (long i = 0; i < size; i++) {
      assertThat(log.isDirty(i))
          .as("seed %d size %d isDirty(%d) at the end", SEED, size, i)
          .isEqualTo(logOracle.get((int) i));
    }
  }

  @Test
  void drainReturnsOnlyTheBitsNewToTheTarget() {
    AtomicPageBitmap log = new AtomicPageBitmap(200);
    PageBitmap target = new PageBitmap(200);
    target.set(1);
    target.set(64);
    target.set(100);
    log.markDirty(1);
    log.markDirty(2);
    log.markDirty(64);
    log.markDirtyRange(65, 67);
    log.markDirty(199);

    assertThat(log.drainInto(target)).isEqualTo(4);

    assertThat(target.words).containsExactly(0b110L, 0b111L | 1L << 36, 0L, 1L << 7);
    assertThat(log.cardinality()).isZero();
    assertThat(log.isDirty(1)).isFalse();
    assertThat(log.isDirty(199)).isFalse();
  }

  @Test
  void drainOfAnEmptyLogChangesNothing() {
    AtomicPageBitmap log = new AtomicPageBitmap(1000);
    PageBitmap target = new PageBitmap(1000);
    target.setRange(10, 20);

    assertThat(log.drainInto(target)).isZero();

    assertThat(target.cardinality()).isEqualTo(10);
  }

  @Test
  void rangeMarksWholeWordsAndKeepsGhostBitsClear() {
    AtomicPageBitmap log = new AtomicPageBitmap(200);
    PageBitmap target = new PageBitmap(200);

    log.markDirtyRange(3, 200);

    assertThat(log.cardinality()).isEqualTo(197);
    assertThat(log.drainInto(target)).isEqualTo(197);
    assertThat(target.words).containsExactly(-1L << 3, -1L, -1L, (1L << 8) - 1);
  }

  @Test
  void sizeMismatchIsRejectedWithoutDraining() {
    AtomicPageBitmap log = new AtomicPageBitmap(64);
    PageBitmap target = new PageBitmap(65);
    log.markDirty(5);

    assertThatThrownBy(() -> log.drainInto(target))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("target size 65 != dirty log size 64");

    assertThat(log.isDirty(5)).isTrue();
    assertThat(target.cardinality()).isZero();
  }

  private static long newBits(BitSet log, BitSet target) {
    BitSet added = (BitSet) log.clone();
    added.andNot(target);
    return added.cardinality();
  }

  private static long[] range(SplittableRandom random, long size) {
    long a = random.nextLong(size + 1);
    long b =
        random.nextBoolean() ? Math.min(size, a + random.nextInt(200)) : random.nextLong(size + 1);
    return new long[] {Math.min(a, b), Math.max(a, b)};
  }

  private static long[] words(BitSet bits, int length) {
    return Arrays.copyOf(bits.toLongArray(), length);
  }

  @ParameterizedTest(name = "{0} bits")
  @ValueSource(longs = {1, 63, 64, 65, 1000, 4097})
  void cardinalityAndCountsTheBitsSetInBothAsBitSetDoes(long size) {
    SplittableRandom random = new SplittableRandom(TestSeeds.derive(SEED, size, 7));
    AtomicPageBitmap atomic = new AtomicPageBitmap(size);
    PageBitmap other = new PageBitmap(size);
    BitSet a = new BitSet();
    BitSet b = new BitSet();
    for (int i = 0; i < size; i++) {
      if (random.nextInt(3) == 0) {
        atomic.markDirty(i);
        a.set(i);
      }
      if (random.nextBoolean()) {
        other.set(i);
        b.set(i);
      }
    }
    a.and(b);

    assertThat(atomic.cardinalityAnd(other)).as("seed %d", SEED).isEqualTo(a.cardinality());
  }

  @Test
  void cardinalityAndRefusesBitmapsOfAnotherSize() {
    assertThatThrownBy(() -> new AtomicPageBitmap(64).cardinalityAnd(new PageBitmap(65)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bitmaps of 64 and 65 bits cannot be intersected");
  }
}
