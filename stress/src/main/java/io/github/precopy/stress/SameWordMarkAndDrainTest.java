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
 * The two-actor form of {@link DirtyLogDrainTest}, which needs three CPUs: this one runs on two.
 * The first actor marks bit 1 and then drains the log into one {@link PageBitmap}; the second marks
 * bit 2 (the same 64-bit word, concurrently with the first mark) and bit 70 (word 1); the arbiter
 * drains what is left into a second bitmap.
 *
 * <p>Result as in {@link DirtyLogDrainTest}: {@code r1}, {@code r2} the counts the drains returned;
 * {@code r3}, {@code r4} the bits each target holds as a mask (1 = bit 1, 2 = bit 2, 4 = bit 70, 8
 * = any other bit). The masks must partition {1, 2, 70} with matching counts, and the first drain
 * must hold bit 1, since that mark happened-before it on the same thread. A lost mark, a bit
 * counted twice, or a missing bit 1 is forbidden.
 */
@JCStressTest
@Description("Concurrent marks in one word and a drain, on two CPUs: every mark reaches one drain.")
@Outcome(
    id = "3, 0, 7, 0",
    expect = ACCEPTABLE,
    desc = "The drain came after every mark and took all three bits.")
@Outcome(
    id = "1, 2, 1, 6",
    expect = ACCEPTABLE,
    desc = "The drain took only its own thread's bit 1; the next drain took bits 2 and 70.")
@Outcome(
    id = {"2, 1, 3, 4", "2, 1, 5, 2"},
    expect = ACCEPTABLE_INTERESTING,
    desc = "The drain took bit 1 and one concurrent mark; the next drain took the other.")
@Outcome(
    expect = FORBIDDEN,
    desc = "A mark was lost or counted twice, or the drain missed its own thread's earlier mark.")
@State
public class SameWordMarkAndDrainTest {

  private final AtomicPageBitmap log = new AtomicPageBitmap(128);
  private final PageBitmap first = new PageBitmap(128);
  private final PageBitmap second = new PageBitmap(128);
  private long firstCount;

  @Actor
  public void markThenDrain() {
    log.markDirty(1);
    firstCount = log.drainInto(first);
  }

  @Actor
  public void markSameWordAndOtherWord() {
    log.markDirty(2);
    log.markDirty(70);
  }

  @Arbiter
  public void arbiter(IIII_Result r) {
    long secondCount = log.drainInto(second);
    r.r1 = (int) firstCount;
    r.r2 = (int) secondCount;
    r.r3 = DirtyLogDrainTest.mask(first);
    r.r4 = DirtyLogDrainTest.mask(second);
  }
}
