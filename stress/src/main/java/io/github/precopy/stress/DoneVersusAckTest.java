package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.github.precopy.balloon.FreePageHintDevice;
import io.github.precopy.spi.PrecopyPhase;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Reference §13 pitfall 10: DONE is always delivered.
 *
 * <p>A round was requested and the guest has not acknowledged it yet. The guest actor acknowledges
 * it and reports a free page; the host actor ends the migration ({@code CLEANUP}, as after a
 * cancel). Whatever the order, the device must end in DONE and its config must read {@link
 * FreePageHintDevice#CMD_ID_DONE}, so the guest gives its hinted blocks back: a late
 * acknowledgement must not restart hinting after DONE.
 *
 * <p>Result: {@code r1} the final status ordinal (3 DONE), {@code r2} whether the config reads
 * DONE, {@code r3} hints that reached the bitmap, {@code r4} hints dropped as stale.
 */
@JCStressTest
@Description("DONE at cleanup racing the guest's acknowledgement of a round is always delivered.")
@Outcome(
    id = "3, 1, 1, 0",
    expect = ACCEPTABLE_INTERESTING,
    desc = "The round started and the hint was applied before DONE.")
@Outcome(
    id = "3, 1, 0, 1",
    expect = ACCEPTABLE,
    desc = "DONE came before the acknowledgement or the hint; the hint was dropped.")
@Outcome(expect = FORBIDDEN, desc = "DONE was lost, or the hint was lost.")
@State
public class DoneVersusAckTest {

  private static final int PAGE = 3;

  private final HintRig rig = new HintRig();
  private final int round;

  public DoneVersusAckTest() {
    rig.markAllDirty();
    rig.hinting.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    round = rig.device.readConfigCommandId();
  }

  @Actor
  public void guestAcknowledgesAndHints() {
    rig.sendCommandId(round);
    rig.hintPage(PAGE);
  }

  @Actor
  public void hostCleansUp() {
    rig.hinting.onPhase(PrecopyPhase.CLEANUP);
  }

  @Arbiter
  public void arbiter(IIII_Result r) {
    try {
      r.r4 = rig.staleHints();
      r.r1 = rig.device.status().ordinal();
      r.r2 = rig.device.readConfigCommandId() == FreePageHintDevice.CMD_ID_DONE ? 1 : 0;
      r.r3 = rig.bitmap.hintCalls();
    } finally {
      rig.close();
    }
  }
}
