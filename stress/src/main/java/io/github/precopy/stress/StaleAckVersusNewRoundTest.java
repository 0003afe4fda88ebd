package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.Map;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * DESIGN §5.4: hints are applied only in START, and START is entered only with the current command
 * id.
 *
 * <p>The setup sync requested round N and the guest has not acknowledged it yet ({@link HintRig}:
 * real {@code RamState}, real device, host driven through the real optimisation). The guest actor
 * acknowledges round N and reports free page {@value #PAGE} (never written, so truly free); the
 * host actor runs the next sync as the engine does: {@code BEFORE_BITMAP_SYNC}, {@code
 * RamState.sync()}, {@code AFTER_BITMAP_SYNC}, which requests round N+1. The acknowledgement of N
 * may reach the device after round N+1 was requested: it is then stale and must not start round
 * N+1, and the hint after it must be dropped.
 *
 * <p>Result: {@code r1} the final status ordinal (0 STOP, 1 REQUESTED, 2 START, 3 DONE), {@code r2}
 * the device's command id minus round N's, {@code r3} pages the hint cleared ({@code
 * hinted-pages}), {@code r4} hints dropped as stale ({@code stale-hints}), {@code r5} 1 if page
 * {@value #PAGE} is still to be sent exactly when the hint cleared nothing and RamState's count
 * equalled its bitmaps' popcount (DESIGN §5.2). Round N+1 must stay REQUESTED.
 */
@JCStressTest
@Description("A late acknowledgement of round N racing the sync never starts round N+1.")
@Outcome(
    id = "1, 1, 1, 0, 1",
    expect = ACCEPTABLE_INTERESTING,
    desc = "Round N started and the hint was applied before stop; round N+1 was requested.")
@Outcome(
    id = "1, 1, 0, 1, 1",
    expect = ACCEPTABLE,
    desc = "The hint came after stop (or the stale acknowledgement was ignored) and was dropped.")
@Outcome(
    id = {"2, 1, 1, 0, 1", "2, 1, 0, 0, 1", "2, 1, 0, 1, 1"},
    expect = FORBIDDEN,
    desc = "Round N+1 started with round N's id.")
@Outcome(
    expect = FORBIDDEN,
    desc = "Round N+1 was not requested, or the hint was lost or miscounted.")
@State
public class StaleAckVersusNewRoundTest {

  private static final int PAGE = 11;

  private final HintRig rig = new HintRig();
  private final int roundN;

  public StaleAckVersusNewRoundTest() {
    rig.setUp();
    roundN = rig.device.readConfigCommandId();
  }

  @Actor
  public void guestAcknowledgesAndHints() {
    rig.sendCommandId(roundN);
    rig.hintPage(PAGE);
  }

  @Actor
  public void hostSyncs() {
    rig.sync();
  }

  @Arbiter
  public void arbiter(IIIII_Result r) {
    try {
      Map<String, Object> statistics = rig.awaitIdle();
      int hinted = ((Number) statistics.get("hinted-pages")).intValue();
      r.r1 = rig.device.status().ordinal();
      r.r2 = rig.device.commandId() - roundN;
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
