package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.GuestMemory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class RateLimiterTest {

  private static final long PAGE = GuestMemory.PAGE_SIZE;
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  /** 100 pages a second: a budget of 10 pages (40,960 bytes) per 100 ms window. */
  private static final long TEN_PAGES_A_WINDOW = 100 * PAGE;

  private final FakeTicker ticker = new FakeTicker(7_000_000_000L);

  @Test
  void unlimitedNeverSleepsAndAllowsTheFullBatch() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(MigrationConfig.UNLIMITED, ticker);

    for (int i = 0; i < 1_000; i++) {
      assertThat(limiter.pagesAllowed(256)).isEqualTo(256);
      limiter.sent(1L << 30);
    }
    ticker.advance(RateLimiter.WINDOW_NANOS / 2);
    assertThat(limiter.pagesAllowed(3)).isEqualTo(3);

    assertThat(ticker.sleeps()).isEmpty();
  }

  @Test
  void aWindowsBudgetIsATenthOfTheLimit() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(10L << 20, ticker); // 10 MiB/s: 1 MiB, 256 pages

    assertThat(limiter.pagesAllowed(1_000)).isEqualTo(256);
    limiter.sent(255 * PAGE);
    assertThat(limiter.pagesAllowed(1_000)).isEqualTo(1);
    assertThat(ticker.sleeps()).isEmpty();
    limiter.sent(PAGE);
    limiter.pagesAllowed(1_000);
    assertThat(ticker.sleeps()).as("the 257th page waits for the next window").hasSize(1);
  }

  @Test
  void aWindowsBudgetIsAtLeastOnePage() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(1_000, ticker); // a tenth would be 100 bytes

    assertThat(limiter.pagesAllowed(256)).isEqualTo(1);
    limiter.sent(PAGE);
    assertThat(limiter.pagesAllowed(256)).isEqualTo(1);
    assertThat(ticker.sleeps())
        .as("a whole page went out before the window's budget was spent")
        .containsExactly(RateLimiter.WINDOW_NANOS);
  }

  @Test
  void allowsNoMoreThanTheBatchAsked() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(TEN_PAGES_A_WINDOW, ticker);

    assertThat(limiter.pagesAllowed(3)).isEqualTo(3);
    assertThat(limiter.pagesAllowed(10)).isEqualTo(10);
    assertThat(limiter.pagesAllowed(11)).isEqualTo(10);
  }

  @Test
  void sleepsToTheEndOfTheWindowOnceItsBudgetIsSpent() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(TEN_PAGES_A_WINDOW, ticker);
    limiter.pagesAllowed(10);
    ticker.advance(30 * MS);
    limiter.sent(10 * PAGE);

    int allowed = limiter.pagesAllowed(256);

    assertThat(ticker.sleeps()).containsExactly(70 * MS);
    assertThat(allowed).as("the next window's whole budget").isEqualTo(10);
  }

  @Test
  void aBatchThatOverspendsTheBudgetAlsoSleepsToTheEndOfTheWindow() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(TEN_PAGES_A_WINDOW, ticker);
    ticker.advance(99 * MS);
    limiter.sent(25 * PAGE);

    assertThat(limiter.pagesAllowed(256)).isEqualTo(10);
    assertThat(ticker.sleeps())
        .as("the overspent bytes are not carried into the next window")
        .containsExactly(MS);
  }

  @Test
  void aNewWindowStartsFreshOnceTheOldOneHasPassed() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(TEN_PAGES_A_WINDOW, ticker);
    limiter.sent(10 * PAGE);
    ticker.advance(RateLimiter.WINDOW_NANOS);

    assertThat(limiter.pagesAllowed(256)).as("a whole budget, at exactly 100 ms").isEqualTo(10);
    limiter.sent(9 * PAGE);
    assertThat(limiter.pagesAllowed(256)).isEqualTo(1);
    assertThat(ticker.sleeps()).isEmpty();
  }

  @Test
  void theWindowAfterASleepStartsWhereTheOldOneEnded() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(TEN_PAGES_A_WINDOW, ticker);
    limiter.sent(10 * PAGE);
    limiter.pagesAllowed(256); // sleeps out the first window: 100 ms
    ticker.advance(10 * MS);
    limiter.sent(10 * PAGE);

    limiter.pagesAllowed(256);

    assertThat(ticker.sleeps()).containsExactly(100 * MS, 90 * MS);
  }

  @Test
  void theWindowAfterAnOversleepStartsWhenTheSleepEnded() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(TEN_PAGES_A_WINDOW, ticker);
    ticker.oversleep(15 * MS);
    limiter.sent(10 * PAGE);
    limiter.pagesAllowed(256); // asks for 100 ms and gets 115
    ticker.advance(10 * MS);
    limiter.sent(10 * PAGE);

    limiter.pagesAllowed(256);

    assertThat(ticker.sleeps())
        .as("the second window started at 115 ms, not at 100 ms")
        .containsExactly(100 * MS, 90 * MS);
  }

  @Test
  void thePagesAllowedAreRoundedUpButAtLeastOne() throws InterruptedException {
    RateLimiter limiter = new RateLimiter(TEN_PAGES_A_WINDOW, ticker);

    limiter.sent(8 * PAGE - 1);
    assertThat(limiter.pagesAllowed(256)).as("2 pages and a byte left").isEqualTo(3);
    limiter.sent(2 * PAGE);
    assertThat(limiter.pagesAllowed(256)).as("a single byte left").isEqualTo(1);
    assertThat(limiter.pagesAllowed(0)).as("even for an empty batch").isEqualTo(1);
    assertThat(ticker.sleeps()).isEmpty();
  }
}
