package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.github.precopy.balloon.FreePageHintDevice;
import java.util.Map;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * Reference §13 pitfall 10, DESIGN §5.4: DONE is always delivered.
 *
 * <p>The setup sync requested round N and the guest has not acknowledged it yet ({@link HintRig}:
 * real {@code RamState}, real device, host driven through the real optimisation). The guest actor
 * acknowledges it and reports free page {@value #PAGE}; the host actor ends the migration as the
 * engine's cleanup does after a cancel or a failure: {@code RamState.acceptHints(false)}, then
 * {@code CLEANUP}. Whatever the order, the device must end in DONE and its config must read {@link
 * FreePageHintDevice#CMD_ID_DONE}, so the guest gives its hinted blocks back: a late
 * acknowledgement must not restart hinting after DONE.
 *
 * <p>Result: {@code r1} the final status ordinal (3 DONE), {@code r2} whether the config reads
 * DONE, {@code r3} pages the hint cleared ({@code hinted-pages}), {@code r4} hints dropped as stale
 * ({@code stale-hints}), {@code r5} 1 if page {@value #PAGE} is still to be sent exactly when the
 * hint cleared nothing and RamState's count equalled its bitmaps' popcount (DESIGN §5.2).
 */
@JCStressTest
@Description("DONE at cleanup racing the guest's acknowledgement of a round is always delivered.")
@Outcome(
    id = "3, 1, 1, 0, 1",
    expect = ACCEPTABLE_INTERESTING,
    desc = "The round started and the hint cleared the page before cleanup, then DONE.")
@Outcome(
    id = "3, 1, 0, 0, 1",
    expect = ACCEPTABLE_INTERESTING,
    desc = "The round started; the hint reached RamState after it stopped accepting hints; DONE.")
@Outcome(
    id = "3, 1, 0, 1, 1",
    expect = ACCEPTABLE,
    desc = "DONE came before the acknowledgement or the hint; the hint was dropped as stale.")
@Outcome(
    expect = FORBIDDEN,
    desc = "DONE was lost or hinting restarted after it, or the hint was miscounted.")
@State
public class DoneVersusAckTest {

  private static final int PAGE = 3;

  private final HintRig rig = new HintRig();
  private final int round;

  public DoneVersusAckTest() {
    rig.setUp();
    round = rig.device.readConfigCommandId();
  }

  @Actor
  public void guestAcknowledgesAndHints() {
    rig.sendCommandId(round);
    rig.hintPage(PAGE);
  }

  @Actor
  public void hostCleansUp() {
    rig.cleanUp();
  }

  @Arbiter
  public void arbiter(IIIII_Result r) {
    try {
      Map<String, Object> statistics = rig.awaitIdle();
      int hinted = ((Number) statistics.get("hinted-pages")).intValue();
      r.r1 = rig.device.status().ordinal();
      r.r2 = rig.device.readConfigCommandId() == FreePageHintDevice.CMD_ID_DONE ? 1 : 0;
      r.r3 = hinted;
      r.r4 = ((Number) statistics.get("stale-hints")).intValue();
      boolean consistent = rig.ram.countMatchesBitmaps();
      boolean pageToSend = rig.takeDirtyPages().get(PAGE);
      r.r5 = consistent && rig.countsConsistentAndEmpty() && pageToSend == (hinted == 0) ? 1 : 0;
    } finally {
      rig.close();
    }
  }
}
