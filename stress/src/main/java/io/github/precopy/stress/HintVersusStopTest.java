package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.spi.PrecopyPhase;
import java.util.Map;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * Reference §13 pitfall 1, DESIGN §5.3: a hint of round N must never clear a bit after round N+1's
 * sync began.
 *
 * <p>Round N is in START and every page is to be sent ({@link HintRig}: real {@code RamState}, real
 * device, host driven through the real optimisation). The guest had page {@value #PAGE} free, then
 * reused it and wrote it through the real {@code GuestMemory}: the write's mark waits in the dirty
 * log for the next sync. The guest actor reports the page as free (its hint for round N, possibly
 * late); the host actor runs the next sync as the engine does: {@code BEFORE_BITMAP_SYNC} (stop
 * hinting), note {@code RamState.dirtyPages()}, {@code RamState.sync()}, {@code AFTER_BITMAP_SYNC}
 * (round N+1). The device's consumer thread applies the hint to the {@code RamState} or drops it
 * concurrently.
 *
 * <p>Result: {@code r1} whether page {@value #PAGE} is still to be sent (the arbiter takes every
 * page as the send loop does), {@code r2} pages the hint cleared ({@code hinted-pages}), {@code r3}
 * hints dropped as stale ({@code stale-hints}), {@code r4} 1 if the hint cleared the page after the
 * host's stop had returned (the page was still counted dirty right after stop, yet the hint cleared
 * it), {@code r5} 1 if RamState's count equalled its bitmaps' popcount (DESIGN §5.2) and no hint
 * was rejected. The page must end up to be sent, since the sync merged the write's mark; a hint
 * that clears it after stop returned (r1 = 0 or r4 = 1) is the lost write and is forbidden, as is a
 * hint that neither cleared the page nor was counted as stale.
 */
@JCStressTest
@Description("A hint racing the stop before a sync never clears a bit after stop returned.")
@Outcome(
    id = "1, 1, 0, 0, 1",
    expect = ACCEPTABLE_INTERESTING,
    desc = "The hint was applied in round N before stop; the sync then re-dirtied the page.")
@Outcome(
    id = "1, 0, 1, 0, 1",
    expect = ACCEPTABLE,
    desc = "The hint arrived after stop and was dropped as stale.")
@Outcome(
    id = {"0, 1, 0, 1, 1", "0, 1, 0, 0, 1", "1, 1, 0, 1, 1"},
    expect = FORBIDDEN,
    desc = "The hint cleared the page after stop returned: the sync's dirty bit is lost.")
@Outcome(
    expect = FORBIDDEN,
    desc = "The hint was lost or counted twice, or the count is off the bitmaps' popcount.")
@State
public class HintVersusStopTest {

  private static final int PAGE = 7;

  private final HintRig rig = new HintRig();
  private long dirtyAfterStop;

  public HintVersusStopTest() {
    rig.setUpAndStartRound();
    rig.write(PAGE);
  }

  @Actor
  public void guestHintsFreePage() {
    if (!rig.hintPage(PAGE)) {
      throw new IllegalStateException("the free-page queue refused the hint");
    }
  }

  @Actor
  public void hostSyncs() {
    rig.hinting.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
    dirtyAfterStop = rig.ram.dirtyPages();
    rig.ram.sync();
    rig.hinting.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
  }

  @Arbiter
  public void arbiter(IIIII_Result r) {
    try {
      Map<String, Object> statistics = rig.awaitIdle();
      int hinted = ((Number) statistics.get("hinted-pages")).intValue();
      boolean consistent = rig.ram.countMatchesBitmaps();
      PageBitmap toSend = rig.takeDirtyPages();
      r.r1 = toSend.get(PAGE) ? 1 : 0;
      r.r2 = hinted;
      r.r3 = ((Number) statistics.get("stale-hints")).intValue();
      r.r4 = hinted == 1 && dirtyAfterStop == HintRig.PAGES ? 1 : 0;
      r.r5 =
          consistent
                  && rig.countsConsistentAndEmpty()
                  && ((Number) statistics.get("rejected-hints")).intValue() == 0
              ? 1
              : 0;
    } finally {
      rig.close();
    }
  }
}
