package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * The two-actor form of {@link DirtyLogDrainTest}, which needs three CPUs: this one runs on two.
 * The first actor stores into page 1 through the real {@code GuestMemory} and then, as the
 * migration thread, runs {@code RamState.sync()} and takes the pages to send; the second stores
 * into page 2 (its dirty bit is in the same 64-bit word of the dirty log as page 1's, and the two
 * marks run concurrently) and page 70 (the next word). The arbiter syncs and takes again.
 *
 * <p>Result as in {@link DirtyLogDrainTest}: {@code r1}, {@code r2} the counts the syncs returned;
 * {@code r3}, {@code r4} the pages each take returned as a mask (1 = page 1, 2 = page 2, 4 = page
 * 70, 8 = any other page, 16 = a taken page did not hold its written value); {@code r5} 1 if the
 * count equalled the bitmaps' popcount after each take (DESIGN §5.2). The masks must partition {1,
 * 2, 70} with matching counts and data, and the first take must hold page 1, since that write
 * happened-before the sync on the same thread. A lost write, a page sent twice or with stale data,
 * a missing page 1 or a count off the popcount is forbidden.
 */
@JCStressTest
@Description("Concurrent writes in one dirty-log word and a sync, on two CPUs: each is sent once.")
@Outcome(
    id = "3, 0, 7, 0, 1",
    expect = ACCEPTABLE,
    desc = "The sync came after every write and took all three pages.")
@Outcome(
    id = "1, 2, 1, 6, 1",
    expect = ACCEPTABLE,
    desc = "The sync took only its own thread's page 1; the next sync took pages 2 and 70.")
@Outcome(
    id = {"2, 1, 3, 4, 1", "2, 1, 5, 2, 1"},
    expect = ACCEPTABLE_INTERESTING,
    desc = "The sync took page 1 and one concurrent write; the next sync took the other.")
@Outcome(
    expect = FORBIDDEN,
    desc =
        "A write was lost, sent twice or without its data, page 1 was missed, or a count is off.")
@State
public class SameWordMarkAndDrainTest {

  private final RamRig rig = new RamRig();
  private long firstCount;
  private int firstMask;
  private boolean firstConsistent;

  @Actor
  public void writeThenSync() {
    rig.write(DirtyLogDrainTest.SAME_WORD_A);
    firstCount = rig.ram.sync();
    firstMask = DirtyLogDrainTest.mask(rig, rig.takeDirtyPages());
    firstConsistent = rig.countsConsistentAndEmpty();
  }

  @Actor
  public void writeSameWordAndOtherWord() {
    rig.write(DirtyLogDrainTest.SAME_WORD_B);
    rig.write(DirtyLogDrainTest.OTHER_WORD);
  }

  @Arbiter
  public void arbiter(IIIII_Result r) {
    try {
      long secondCount = rig.ram.sync();
      r.r1 = (int) firstCount;
      r.r2 = (int) secondCount;
      r.r3 = firstMask;
      r.r4 = DirtyLogDrainTest.mask(rig, rig.takeDirtyPages());
      r.r5 = firstConsistent && rig.countsConsistentAndEmpty() ? 1 : 0;
    } finally {
      rig.close();
    }
  }
}
