package io.github.precopy.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.github.precopy.bitmap.PageBitmap;
import java.util.Map;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * DESIGN §5.2: {@code RamState}'s dirty count equals the popcount of its bitmaps, also while the
 * device's consumer thread clears hinted pages and the migration thread takes pages to send.
 *
 * <p>Round N is in START and every page is to be sent ({@link HintRig}: real {@code RamState}, real
 * device, host driven through the real optimisation). The guest actor reports pages [{@value
 * #FROM}, {@value #TO}) free in one block; the migration actor takes the next {@value #SEND} pages
 * to send with {@code RamState.takeDirtyPages}, as the send loop does, from page 0. The hint and
 * the take overlap on pages [{@value #FROM}, {@value #SEND}): each of those pages must be either
 * sent or hinted, and the hint must subtract from the count only the pages it truly cleared.
 *
 * <p>Result: {@code r1} pages the send took, {@code r2} pages the hint cleared ({@code
 * hinted-pages}), {@code r3} pages still to send afterwards (the arbiter takes them all), {@code
 * r4} pages of the hinted block the send took, {@code r5} 1 if the count equalled the bitmaps'
 * popcount right after the send and at the end, and no hint was rejected or stale.
 */
@JCStressTest
@Description("A hint clearing pages while the send loop takes them keeps the count exact.")
@Outcome(
    id = "24, 16, 88, 0, 1",
    expect = ACCEPTABLE,
    desc = "The hint cleared its 16 pages first; the send took pages 0-15 and 32-39.")
@Outcome(
    id = "24, 8, 96, 8, 1",
    expect = ACCEPTABLE,
    desc = "The send took pages 0-23 first; the hint cleared the 8 pages left of its block.")
@Outcome(
    expect = FORBIDDEN,
    desc = "A page was both sent and hinted or neither, or the count is off the popcount.")
@State
public class HintVersusSendTest {

  private static final int FROM = 16;
  private static final int TO = 32;
  private static final int SEND = 24;

  private final HintRig rig = new HintRig();
  private final int[] blocks = new int[SEND];
  private final long[] pages = new long[SEND];
  private int sent;
  private boolean consistentAfterSend;

  public HintVersusSendTest() {
    rig.setUpAndStartRound();
  }

  @Actor
  public void guestHintsBlock() {
    if (!rig.device.addFreeBlock(
        (long) FROM * HintRig.PAGE_SIZE, (long) (TO - FROM) * HintRig.PAGE_SIZE)) {
      throw new IllegalStateException("the free-page queue refused the hint");
    }
  }

  @Actor
  public void migrationSends() {
    sent = rig.ram.takeDirtyPages(blocks, pages, SEND);
    consistentAfterSend = rig.ram.countMatchesBitmaps();
  }

  @Arbiter
  public void arbiter(IIIII_Result r) {
    try {
      Map<String, Object> statistics = rig.awaitIdle();
      int hinted = ((Number) statistics.get("hinted-pages")).intValue();
      PageBitmap sentPages = new PageBitmap(HintRig.PAGES);
      for (int i = 0; i < sent; i++) {
        sentPages.set(pages[i]);
      }
      boolean consistent = rig.ram.countMatchesBitmaps();
      PageBitmap left = rig.takeDirtyPages();
      boolean partition = true;
      for (int page = 0; page < HintRig.PAGES; page++) {
        boolean hintedPage = page >= FROM && page < TO && !sentPages.get(page);
        int owners =
            (sentPages.get(page) ? 1 : 0) + (left.get(page) ? 1 : 0) + (hintedPage ? 1 : 0);
        partition &= owners == 1;
      }
      r.r1 = sent;
      r.r2 = hinted;
      r.r3 = (int) left.cardinality();
      r.r4 = (int) sentPages.cardinality(FROM, TO);
      r.r5 =
          consistentAfterSend
                  && consistent
                  && partition
                  && rig.countsConsistentAndEmpty()
                  && ((Number) statistics.get("rejected-hints")).intValue() == 0
                  && ((Number) statistics.get("stale-hints")).intValue() == 0
              ? 1
              : 0;
    } finally {
      rig.close();
    }
  }
}
