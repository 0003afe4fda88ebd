package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.github.precopy.bitmap.PageBitmap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * Two guest writers store into pages 1 and 2, whose dirty bits share a word of the block's dirty
 * log (the first writer also stores into page 70, in the next word), through the real {@code
 * GuestMemory}, while the migration thread runs {@code RamState.sync()} (a drain of the dirty log
 * through the real {@code DirtyTracker}) and takes the pages to send, as the engine's send loop
 * does. The arbiter syncs and takes again.
 *
 * <p>Result: {@code r1}, {@code r2} the counts the two syncs returned; {@code r3}, {@code r4} the
 * pages each take returned, as a mask: 1 = page 1, 2 = page 2, 4 = page 70, 8 = any other page, 16
 * = a taken page did not hold the value written to it (the sync saw the mark but the sender did not
 * see the write); {@code r5} 1 if RamState's count equalled its bitmaps' popcount after each take
 * and nothing was left to send (DESIGN §5.2). Every write must be sent exactly once with its data:
 * the masks partition {1, 2, 70} (union 7, no overlap), each count equals its mask's popcount, so
 * the counts add up to 3, and r5 is 1. Anything else (a mark lost to a concurrent mark or to the
 * drain's swap, a page sent twice, a wrong count, stale data) is forbidden.
 *
 * <p>Needs 3 CPUs: jcstress does not run it on 2 (see {@link SameWordMarkAndDrainTest}).
 */
@JCStressTest
@Description("Two writes in one dirty-log word, one in another, and a sync: each is sent once.")
@Outcome(
    id = "0, 3, 0, 7, 1",
    expect = ACCEPTABLE,
    desc = "The sync ran before every write; the arbiter's sync took all three pages.")
@Outcome(
    id = "3, 0, 7, 0, 1",
    expect = ACCEPTABLE,
    desc = "The sync ran after every write and took all three pages.")
@Outcome(
    id = {"1, 2, 1, 6, 1", "1, 2, 2, 5, 1", "2, 1, 3, 4, 1"},
    expect = ACCEPTABLE_INTERESTING,
    desc = "The sync took part of word 0 (and not yet page 70); the next sync took the rest.")
@Outcome(
    id = {"1, 2, 4, 3, 1", "2, 1, 5, 2, 1", "2, 1, 6, 1, 1"},
    expect = ACCEPTABLE_INTERESTING,
    desc = "The sync took page 70 but missed a write in word 0; the next sync took it.")
@Outcome(
    expect = FORBIDDEN,
    desc = "A write was lost, sent twice or without its data, or a count is wrong.")
@State
public class DirtyLogDrainTest {

  static final int SAME_WORD_A = 1;
  static final int SAME_WORD_B = 2;
  static final int OTHER_WORD = 70;

  private final RamRig rig = new RamRig();
  private long firstCount;
  private int firstMask;
  private boolean firstConsistent;

  @Actor
  public void writerOne() {
    rig.write(SAME_WORD_A);
    rig.write(OTHER_WORD);
  }

  @Actor
  public void writerTwo() {
    rig.write(SAME_WORD_B);
  }

  @Actor
  public void migrationSyncs() {
    firstCount = rig.ram.sync();
    firstMask = mask(rig, rig.takeDirtyPages());
    firstConsistent = rig.countsConsistentAndEmpty();
  }

  @Arbiter
  public void arbiter(IIIII_Result r) {
    try {
      long secondCount = rig.ram.sync();
      r.r1 = (int) firstCount;
      r.r2 = (int) secondCount;
      r.r3 = firstMask;
      r.r4 = mask(rig, rig.takeDirtyPages());
      r.r5 = firstConsistent && rig.countsConsistentAndEmpty() ? 1 : 0;
    } finally {
      rig.close();
    }
  }

  /**
   * The pages of {@code taken} as 1 (page 1), 2 (page 2), 4 (page 70), 8 (any other page), plus 16
   * if one of them does not hold the value the rig's guest wrote to it.
   */
  static int mask(RamRig rig, PageBitmap taken) {
    int mask = 0;
    for (long i = taken.nextSetBit(0); i >= 0; i = taken.nextSetBit(i + 1)) {
      int page = (int) i;
      if (page == SAME_WORD_A) {
        mask |= 1;
      } else if (page == SAME_WORD_B) {
        mask |= 2;
      } else if (page == OTHER_WORD) {
        mask |= 4;
      } else {
        mask |= 8;
        continue;
      }
      if (!rig.holdsStamp(page)) {
        mask |= 16;
      }
    }
    return mask;
  }
}
