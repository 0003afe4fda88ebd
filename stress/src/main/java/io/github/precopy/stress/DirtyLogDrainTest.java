package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.github.precopy.bitmap.AtomicPageBitmap;
import io.github.precopy.bitmap.PageBitmap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Two markers set bits 1 and 2 of word 0 of an {@link AtomicPageBitmap} (the first marker also sets
 * bit 70, in word 1) while a third actor drains the log into one {@link PageBitmap}; the arbiter
 * drains what is left into a second one.
 *
 * <p>Result: {@code r1}, {@code r2} are the counts the two drains returned; {@code r3}, {@code r4}
 * are the bits each target holds, as a mask: 1 = bit 1, 2 = bit 2, 4 = bit 70, 8 = any other bit.
 * Every mark must reach exactly one drain: the masks partition {1, 2, 70} (union 7, no overlap) and
 * each count equals its mask's popcount, so the counts add up to 3. Anything else (a mark lost to a
 * concurrent mark or to the drain's swap, a bit counted by both drains, a wrong count) is
 * forbidden.
 */
@JCStressTest
@Description("Two marks in one word, one in another, and a drain: each reaches exactly one drain.")
@Outcome(
    id = "0, 3, 0, 7",
    expect = ACCEPTABLE,
    desc = "The drain ran before every mark; the arbiter's drain took all three bits.")
@Outcome(
    id = "3, 0, 7, 0",
    expect = ACCEPTABLE,
    desc = "The drain ran after every mark and took all three bits.")
@Outcome(
    id = {"1, 2, 1, 6", "1, 2, 2, 5", "2, 1, 3, 4"},
    expect = ACCEPTABLE_INTERESTING,
    desc = "The drain took part of word 0 (and not yet bit 70); the rest reached the next drain.")
@Outcome(
    id = {"1, 2, 4, 3", "2, 1, 5, 2", "2, 1, 6, 1"},
    expect = ACCEPTABLE_INTERESTING,
    desc = "The drain took bit 70 but missed a mark in word 0; the next drain took it.")
@Outcome(
    expect = FORBIDDEN,
    desc = "A mark was lost, counted twice, or a count does not match the bits drained.")
@State
public class DirtyLogDrainTest {

  private static final int SAME_WORD_A = 1;
  private static final int SAME_WORD_B = 2;
  private static final int OTHER_WORD = 70;

  private final AtomicPageBitmap log = new AtomicPageBitmap(128);
  private final PageBitmap first = new PageBitmap(128);
  private final PageBitmap second = new PageBitmap(128);
  private long firstCount;

  @Actor
  public void markerOne() {
    log.markDirty(SAME_WORD_A);
    log.markDirty(OTHER_WORD);
  }

  @Actor
  public void markerTwo() {
    log.markDirty(SAME_WORD_B);
  }

  @Actor
  public void drainer() {
    firstCount = log.drainInto(first);
  }

  @Arbiter
  public void arbiter(IIII_Result r) {
    long secondCount = log.drainInto(second);
    r.r1 = (int) firstCount;
    r.r2 = (int) secondCount;
    r.r3 = mask(first);
    r.r4 = mask(second);
  }

  /** The bits of {@code target} as 1 (bit 1), 2 (bit 2), 4 (bit 70), 8 (any other bit). */
  static int mask(PageBitmap target) {
    int mask = 0;
    for (long i = target.nextSetBit(0); i >= 0; i = target.nextSetBit(i + 1)) {
      if (i == SAME_WORD_A) {
        mask |= 1;
      } else if (i == SAME_WORD_B) {
        mask |= 2;
      } else if (i == OTHER_WORD) {
        mask |= 4;
      } else {
        mask |= 8;
      }
    }
    return mask;
  }
}
