package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
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
 * Bit 5 of an {@link AtomicPageBitmap} was marked and drained already (the page was sent). One
 * actor marks it dirty again while another drains the log into a fresh {@link PageBitmap}; the
 * arbiter drains what is left into a second fresh one.
 *
 * <p>Result: {@code r1}, {@code r2} are the counts the two drains returned; {@code r3}, {@code r4}
 * whether each target holds bit 5. The new mark must be counted again exactly once across the two
 * drains: either the concurrent drain took it or the arbiter's did. Counted by none (the mark was
 * lost) or by both (the drain left it in the log) is forbidden.
 */
@JCStressTest
@Description("Re-marking an already drained bit during a drain counts it again exactly once.")
@Outcome(
    id = "1, 0, 1, 0",
    expect = ACCEPTABLE,
    desc = "The concurrent drain saw the new mark and took it.")
@Outcome(
    id = "0, 1, 0, 1",
    expect = ACCEPTABLE,
    desc = "The new mark landed after the drain; the next drain took it.")
@Outcome(id = "0, 0, 0, 0", expect = FORBIDDEN, desc = "The new mark was lost.")
@Outcome(id = "1, 1, 1, 1", expect = FORBIDDEN, desc = "The new mark was counted by both drains.")
@Outcome(expect = FORBIDDEN, desc = "A count does not match the bits drained.")
@State
public class RedirtyDrainedBitTest {

  private static final int BIT = 5;

  private final AtomicPageBitmap log = new AtomicPageBitmap(64);
  private final PageBitmap first = new PageBitmap(64);
  private final PageBitmap second = new PageBitmap(64);
  private long firstCount;

  public RedirtyDrainedBitTest() {
    log.markDirty(BIT);
    PageBitmap migration = new PageBitmap(64);
    if (log.drainInto(migration) != 1 || log.isDirty(BIT)) {
      throw new IllegalStateException("the setup drain did not take bit " + BIT);
    }
  }

  @Actor
  public void guestWrite() {
    log.markDirty(BIT);
  }

  @Actor
  public void migrationSync() {
    firstCount = log.drainInto(first);
  }

  @Arbiter
  public void arbiter(IIII_Result r) {
    long secondCount = log.drainInto(second);
    r.r1 = (int) firstCount;
    r.r2 = (int) secondCount;
    r.r3 = first.cardinality() == 1 && first.get(BIT) ? 1 : first.cardinality() == 0 ? 0 : 9;
    r.r4 = second.cardinality() == 1 && second.get(BIT) ? 1 : second.cardinality() == 0 ? 0 : 9;
  }
}
