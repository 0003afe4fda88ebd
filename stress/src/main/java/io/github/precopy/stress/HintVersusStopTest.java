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
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Reference §13 pitfall 1: a hint of round N must never clear a bit after round N+1's sync began.
 *
 * <p>Round N is in START and every page is to be sent. The guest had page {@value #PAGE} free, then
 * reused and wrote it: the write's mark waits in the dirty log for the next sync. The guest actor
 * reports the page as free (its hint for round N, possibly late); the host actor runs the next sync
 * as the engine does: {@code BEFORE_BITMAP_SYNC} (stop hinting), drain the dirty log into the
 * migration bitmap, {@code AFTER_BITMAP_SYNC} (round N+1). The device's consumer thread applies or
 * drops the hint concurrently.
 *
 * <p>Result: {@code r1} whether the page is still to be sent, {@code r2} hints that reached the
 * bitmap, {@code r3} hints dropped as stale, {@code r4} hints that cleared the page after the
 * host's stop had returned. The page must end up dirty, since the sync merged the write's mark; a
 * hint that clears it after stop returned (r1 = 0 or r4 = 1) is the lost write and is forbidden, as
 * is a hint that neither reached the bitmap nor was counted as stale.
 */
@JCStressTest
@Description("A hint racing the stop before a sync never clears a bit after stop returned.")
@Outcome(
    id = "1, 1, 0, 0",
    expect = ACCEPTABLE_INTERESTING,
    desc = "The hint was applied in round N before stop; the sync then re-dirtied the page.")
@Outcome(
    id = "1, 0, 1, 0",
    expect = ACCEPTABLE,
    desc = "The hint arrived after stop and was dropped as stale.")
@Outcome(
    id = {"0, 1, 0, 1", "0, 1, 0, 0", "1, 1, 0, 1"},
    expect = FORBIDDEN,
    desc = "The hint cleared the page after stop returned: the sync's dirty bit is lost.")
@Outcome(expect = FORBIDDEN, desc = "The hint was lost or counted twice.")
@State
public class HintVersusStopTest {

  private static final int PAGE = 7;

  private final HintRig rig = new HintRig();

  public HintVersusStopTest() {
    rig.markAllDirty();
    rig.startHintingRound();
    rig.dirtyLog.markDirty(PAGE);
  }

  @Actor
  public void guestHintsFreePage() {
    if (!rig.hintPage(PAGE)) {
      throw new IllegalStateException("the free-page queue refused the hint");
    }
  }

  @Actor
  public void hostSyncs() {
    rig.syncRound();
  }

  @Arbiter
  public void arbiter(IIII_Result r) {
    try {
      r.r3 = rig.staleHints();
      r.r1 = rig.bitmap.isDirty(PAGE) ? 1 : 0;
      r.r2 = rig.bitmap.hintCalls();
      r.r4 = rig.bitmap.clearsAfterStop();
    } finally {
      rig.close();
    }
  }
}
