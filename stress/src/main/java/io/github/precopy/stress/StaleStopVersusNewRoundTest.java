package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.github.precopy.balloon.FreePageHintDevice;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Reference §13 pitfall 2, DESIGN §5.4: a stale STOP never ends a newer round.
 *
 * <p>Round N is in START ({@link HintRig}: real {@code RamState}, real device, host driven through
 * the real optimisation). The guest actor sends its STOP for round N (the driver's "I stopped"),
 * then reads the config and, if it already shows a new round id, acknowledges it. The host actor
 * runs the next sync as the engine does: {@code BEFORE_BITMAP_SYNC}, {@code RamState.sync()},
 * {@code AFTER_BITMAP_SYNC} (round N+1). The arbiter waits for the device to process the queue,
 * acknowledges round N+1 if the guest did not yet (the driver reacting to the config interrupt),
 * and waits again.
 *
 * <p>Result: {@code r1} whether the guest acknowledged round N+1 in its actor, {@code r2} the final
 * status ordinal (0 STOP, 1 REQUESTED, 2 START, 3 DONE), {@code r3} the config interrupts during
 * the actors (1: the guest's STOP had already ended round N, so the host's stop changed nothing; 2:
 * the host's stop came first), {@code r4} the final command id minus round N's. Round N+1 must end
 * in START: the stale STOP, queued before the acknowledgement, can only end round N or be ignored.
 */
@JCStressTest
@Description("A stale STOP of round N racing the sync that starts round N+1 never ends round N+1.")
@Outcome(
    id = {"0, 2, 1, 1", "1, 2, 1, 1"},
    expect = ACCEPTABLE_INTERESTING,
    desc = "The guest's STOP ended round N before the host stopped it; round N+1 started.")
@Outcome(
    id = {"0, 2, 2, 1", "1, 2, 2, 1"},
    expect = ACCEPTABLE,
    desc = "The host stopped round N first; the stale STOP was ignored; round N+1 started.")
@Outcome(
    id = {"0, 0, 1, 1", "1, 0, 1, 1", "0, 0, 2, 1", "1, 0, 2, 1"},
    expect = FORBIDDEN,
    desc = "Round N+1 was ended: the stale STOP or the acknowledgement was misapplied.")
@Outcome(expect = FORBIDDEN, desc = "Round N+1 did not start, or the command ids are wrong.")
@State
public class StaleStopVersusNewRoundTest {

  private final HintRig rig = new HintRig();
  private final int roundN;
  private boolean guestAcked;

  public StaleStopVersusNewRoundTest() {
    rig.setUpAndStartRound();
    roundN = rig.device.commandId();
  }

  @Actor
  public void guestStopsRoundN() {
    rig.sendCommandId(FreePageHintDevice.CMD_ID_STOP);
    int id = rig.device.readConfigCommandId();
    if (Integer.compareUnsigned(id, FreePageHintDevice.CMD_ID_MIN) >= 0 && id != roundN) {
      guestAcked = rig.sendCommandId(id);
    }
  }

  @Actor
  public void hostSyncs() {
    rig.sync();
  }

  @Arbiter
  public void arbiter(IIII_Result r) {
    try {
      r.r3 = rig.configInterrupts.get();
      r.r1 = guestAcked ? 1 : 0;
      if (!guestAcked) {
        rig.awaitIdle();
        rig.sendCommandId(rig.device.readConfigCommandId());
      }
      rig.awaitIdle();
      r.r2 = rig.device.status().ordinal();
      r.r4 = rig.device.commandId() - roundN;
    } finally {
      rig.close();
    }
  }
}
