package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
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
 * Page 5 was written, synced and taken already (the page was sent). The guest writes it again
 * through the real {@code GuestMemory} while the migration thread runs {@code RamState.sync()} and
 * takes the pages to send; the arbiter syncs and takes again.
 *
 * <p>Result: {@code r1}, {@code r2} the counts the two syncs returned; {@code r3}, {@code r4}
 * whether each take returned page 5 (1) and it held the new value, nothing (0), or anything else
 * (9); {@code r5} 1 if RamState's count equalled its bitmaps' popcount after each take (DESIGN
 * §5.2). The new write must be sent again exactly once, with its data: either the concurrent sync
 * took it or the arbiter's did. Sent by none (the write was lost), by both (the drain left the mark
 * in the log) or with stale data is forbidden.
 */
@JCStressTest
@Description("Re-writing an already sent page during a sync sends it again exactly once.")
@Outcome(
    id = "1, 0, 1, 0, 1",
    expect = ACCEPTABLE,
    desc = "The concurrent sync saw the new write and the page was sent.")
@Outcome(
    id = "0, 1, 0, 1, 1",
    expect = ACCEPTABLE,
    desc = "The new write landed after the sync; the next sync took it.")
@Outcome(id = "0, 0, 0, 0, 1", expect = FORBIDDEN, desc = "The new write was lost.")
@Outcome(id = "1, 1, 1, 1, 1", expect = FORBIDDEN, desc = "The new write was sent twice.")
@Outcome(
    expect = FORBIDDEN,
    desc = "Stale data was sent, or a count does not match the pages taken.")
@State
public class RedirtyDrainedBitTest {

  private static final int PAGE = 5;

  private final RamRig rig = new RamRig();
  private long firstCount;
  private int firstTaken;
  private boolean firstConsistent;

  public RedirtyDrainedBitTest() {
    rig.write(PAGE, ~rig.stamp(PAGE));
    PageBitmap sent;
    if (rig.ram.sync() != 1
        || (sent = rig.takeDirtyPages()).cardinality() != 1
        || !sent.get(PAGE)) {
      throw new IllegalStateException("the setup sync did not send page " + PAGE);
    }
  }

  @Actor
  public void guestWrite() {
    rig.write(PAGE);
  }

  @Actor
  public void migrationSync() {
    firstCount = rig.ram.sync();
    firstTaken = taken(rig.takeDirtyPages());
    firstConsistent = rig.countsConsistentAndEmpty();
  }

  @Arbiter
  public void arbiter(IIIII_Result r) {
    try {
      long secondCount = rig.ram.sync();
      r.r1 = (int) firstCount;
      r.r2 = (int) secondCount;
      r.r3 = firstTaken;
      r.r4 = taken(rig.takeDirtyPages());
      r.r5 = firstConsistent && rig.countsConsistentAndEmpty() ? 1 : 0;
    } finally {
      rig.close();
    }
  }

  /** 1 if {@code pages} is just page 5 and it holds the new value, 0 if empty, 9 otherwise. */
  private int taken(PageBitmap pages) {
    long count = pages.cardinality();
    if (count == 0) {
      return 0;
    }
    return count == 1 && pages.get(PAGE) && rig.holdsStamp(PAGE) ? 1 : 9;
  }
}
