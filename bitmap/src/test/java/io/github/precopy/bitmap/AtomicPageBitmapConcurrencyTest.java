package io.github.precopy.bitmap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Writers mark a {@link AtomicPageBitmap} while a migration thread drains it: nothing lost, nothing
 * counted twice, and a mark published before a drain began is seen by that drain.
 */
final class AtomicPageBitmapConcurrencyTest {

  private static final long SEED = TestSeeds.baseSeed(AtomicPageBitmapConcurrencyTest.class);

  /** Small, so that writers and the drainer meet on the same words often. */
  private static final int SIZE = 1 << 16;

  private static final int WRITERS = 3;
  private static final int MARKS_PER_WRITER = 10_000;

  @RepeatedTest(20)
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void concurrentMarksAreNeitherLostNorCountedTwice(RepetitionInfo repetition) throws Exception {
    Race race = new Race(TestSeeds.derive(SEED, 1, repetition.getCurrentRepetition()), false);

    race.run();

    assertThat(race.target.words)
        .as("%s target after the final drain", race.where())
        .isEqualTo(race.words(race.union));
    assertThat(race.drained)
        .as("%s sum of drain results", race.where())
        .isEqualTo(race.target.cardinality());
    assertThat(race.log.cardinality()).as("%s log after the final drain", race.where()).isZero();
  }

  @RepeatedTest(20)
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void marksOfBitsAlreadyInTheTargetAreNotCounted(RepetitionInfo repetition) throws Exception {
    Race race = new Race(TestSeeds.derive(SEED, 2, repetition.getCurrentRepetition()), false);
    BitSet initial = new BitSet();
    SplittableRandom random = new SplittableRandom(race.seed);
    race.union.stream().filter(i -> random.nextBoolean()).forEach(initial::set);
    for (int i = 0; i < 1_000; i++) {
      initial.set(random.nextInt(SIZE));
    }
    initial.stream().forEach(race.target::set);
    long initialCount = race.target.cardinality();

    race.run();

    BitSet expected = (BitSet) race.union.clone();
    expected.or(initial);
    assertThat(race.target.words)
        .as("%s target after the final drain", race.where())
        .isEqualTo(race.words(expected));
    assertThat(race.drained)
        .as("%s sum of drain results", race.where())
        .isEqualTo(race.target.cardinality() - initialCount);
  }

  @RepeatedTest(20)
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void dirtyCounterMatchesPopcountWhileTheMigrationThreadClearsPages(RepetitionInfo repetition)
      throws Exception {
    Race race = new Race(TestSeeds.derive(SEED, 3, repetition.getCurrentRepetition()), true);

    race.run();

    assertThat(race.drained - race.cleared)
        .as("%s dirty counter after the final drain", race.where())
        .isEqualTo(race.target.cardinality());
    BitSet lost = (BitSet) race.union.clone();
    lost.andNot(race.clearedEver);
    lost.andNot(toBitSet(race.target));
    assertThat(lost.cardinality())
        .as(
            "%s marked bits neither in the target nor ever cleared, e.g. %d",
            race.where(), lost.nextSetBit(0))
        .isZero();
  }

  private static BitSet toBitSet(PageBitmap bitmap) {
    BitSet bits = new BitSet();
    bitmap.forEachSetBit(0, bitmap.size(), index -> set(bits, index));
    return bits;
  }

  private static boolean set(BitSet bits, long index) {
    bits.set((int) index);
    return true;
  }

  /** Three writers and one draining migration thread over one log and one target. */
  private static final class Race {
    final long seed;
    final boolean clearPages;
    final AtomicPageBitmap log = new AtomicPageBitmap(SIZE);
    final PageBitmap target = new PageBitmap(SIZE);
    final long[][] from = new long[WRITERS][MARKS_PER_WRITER];
    final long[][] to = new long[WRITERS][MARKS_PER_WRITER];
    final BitSet union = new BitSet();
    final AtomicIntegerArray published = new AtomicIntegerArray(WRITERS);
    final BitSet clearedEver = new BitSet();
    long drained;
    long cleared;
    int drains;

    Race(long seed, boolean clearPages) {
      this.seed = seed;
      this.clearPages = clearPages;
      for (int w = 0; w < WRITERS; w++) {
        SplittableRandom random = new SplittableRandom(TestSeeds.derive(seed, w));
        for (int k = 0; k < MARKS_PER_WRITER; k++) {
          int kind = random.nextInt(10);
          if (kind < 2 && k > 0) {
            int repeat = random.nextInt(k);
            from[w][k] = from[w][repeat];
            to[w][k] = to[w][repeat];
          } else if (kind < 8) {
            from[w][k] = kind < 5 ? random.nextInt(512) : random.nextInt(SIZE);
            to[w][k] = from[w][k] + 1;
          } else {
            from[w][k] = random.nextInt(SIZE);
            int length =
                random.nextInt(10) == 0 ? 2 + random.nextInt(4096) : 2 + random.nextInt(200);
            to[w][k] = Math.min(SIZE, from[w][k] + length);
          }
          union.set((int) from[w][k], (int) to[w][k]);
        }
      }
    }

    String where() {
      return String.format("seed %d (case seed %d, %d drains)", SEED, seed, drains);
    }

    long[] words(BitSet bits) {
      return Arrays.copyOf(bits.toLongArray(), target.words.length);
    }

    void run() throws Exception {
      CyclicBarrier start = new CyclicBarrier(WRITERS + 1);
      ExecutorService threads = Executors.newFixedThreadPool(WRITERS + 1);
      try {
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
          int writer = w;
          writers.add(threads.submit(() -> write(writer, start)));
        }
        Future<?> migration = threads.submit(() -> migrate(start, writers));
        for (Future<?> writer : writers) {
          writer.get();
        }
        migration.get();
      } finally {
        threads.shutdownNow();
      }
      drainOnce();
    }

    private Void write(int w, CyclicBarrier start) throws Exception {
      start.await();
      for (int k = 0; k < MARKS_PER_WRITER; k++) {
        if (to[w][k] - from[w][k] == 1) {
          log.markDirty(from[w][k]);
        } else {
          log.markDirtyRange(from[w][k], to[w][k]);
        }
        published.set(w, k + 1);
        if ((k & 255) == 0) {
          Thread.yield();
        }
      }
      return null;
    }

    private Void migrate(CyclicBarrier start, List<Future<?>> writers) throws Exception {
      start.await();
      SplittableRandom random = new SplittableRandom(TestSeeds.derive(seed, WRITERS));
      int[] checked = new int[WRITERS];
      while (!writers.stream().allMatch(Future::isDone)) {
        int[] before = published();
        drainOnce();
        if (clearPages) {
          long a = random.nextInt(SIZE + 1);
          long b = random.nextInt(SIZE + 1);
          long lo = Math.min(a, b);
          long hi = Math.max(a, b);
          target.forEachSetBit(lo, hi, index -> set(clearedEver, index));
          cleared += target.clearRange(lo, hi);
          assertThat(drained - cleared)
              .as("%s dirty counter after drain and clear", where())
              .isEqualTo(target.cardinality());
        } else {
          assertPublishedMarksAreInTarget(checked, before);
        }
      }
      return null;
    }

    private void drainOnce() {
      drained += log.drainInto(target);
      drains++;
    }

    private int[] published() {
      int[] snapshot = new int[WRITERS];
      for (int w = 0; w < WRITERS; w++) {
        snapshot[w] = published.get(w);
      }
      return snapshot;
    }

    /** Marks of writer w below before[w] happened-before the drain began: the target has them. */
    private void assertPublishedMarksAreInTarget(int[] checked, int[] before) {
      for (int w = 0; w < WRITERS; w++) {
        for (int k = checked[w]; k < before[w]; k++) {
          long marked = to[w][k] - from[w][k];
          if (target.cardinality(from[w][k], to[w][k]) != marked) {
            assertThat(target.cardinality(from[w][k], to[w][k]))
                .as(
                    "%s writer %d mark %d [%d, %d) published before the drain began",
                    where(), w, k, from[w][k], to[w][k])
                .isEqualTo(marked);
          }
        }
        checked[w] = before[w];
      }
    }
  }
}
