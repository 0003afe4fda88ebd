package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Sizes, rates and durations: one set of rules for every option that takes them. */
final class UnitsTest {

  @Test
  void sizesTakeBinarySuffixesUpToTInEitherCaseAndFractionsThatComeToWholeBytes() {
    assertThat(Units.parseSize("4096")).isEqualTo(4096);
    assertThat(Units.parseSize("64k")).isEqualTo(64L << 10);
    assertThat(Units.parseSize("64M")).isEqualTo(64L << 20);
    assertThat(Units.parseSize(" 2g ")).isEqualTo(2L << 30);
    assertThat(Units.parseSize("1t")).isEqualTo(1L << 40);
    assertThat(Units.parseSize("1.5g")).isEqualTo(3L << 29);
    assertThat(Units.parseSize("0")).isZero();
    for (String text :
        new String[] {"", "2x", "-1", "g", "1.0000001k", "9000000t", "1 kb", "1kb"}) {
      assertThatIllegalArgumentException()
          .as(text)
          .isThrownBy(() -> Units.parseSize(text))
          .withMessageStartingWith("'" + text + "' is not a size");
    }
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Units.parseSize("1.0000001k"))
        .withMessageContaining("not a whole number of bytes");
  }

  @Test
  void ratesAreSizesPerSecondWithAnOptionalPerSecond() {
    assertThat(Units.parseRate("128m")).isEqualTo(128L << 20);
    assertThat(Units.parseRate("128m/s")).isEqualTo(128L << 20);
    assertThat(Units.parseRate("1t")).isEqualTo(1L << 40);
    assertThat(Units.parseRate("1.5G/S")).isEqualTo(3L << 29);
    assertThat(Units.parseRate("65536")).isEqualTo(65536);
    for (String text : new String[] {"fast", "1e6", "-1m", "1m/h", "/s", "0.5"}) {
      assertThatIllegalArgumentException()
          .as(text)
          .isThrownBy(() -> Units.parseRate(text))
          .withMessageStartingWith("'" + text + "' is not a rate");
    }
  }

  @Test
  void durationsNeedAUnitAndComeToWholeMilliseconds() {
    assertThat(Units.parseDuration("300ms")).isEqualTo(Duration.ofMillis(300));
    assertThat(Units.parseDuration("60s")).isEqualTo(Duration.ofSeconds(60));
    assertThat(Units.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Units.parseDuration("1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Units.parseDuration("1.5S")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Units.parseDuration("0s")).isZero();
    for (String text : new String[] {"60", "soon", "-1s", "0.5ms", "1d", "99999999999999999999h"}) {
      assertThatIllegalArgumentException()
          .as(text)
          .isThrownBy(() -> Units.parseDuration(text))
          .withMessageStartingWith("'" + text + "' is not a duration");
    }
  }

  @Test
  void aBareNumberIsMillisecondsOnlyWhereAskedFor() {
    assertThat(Units.parseDurationOrMillis("300")).isEqualTo(Duration.ofMillis(300));
    assertThat(Units.parseDurationOrMillis("300ms")).isEqualTo(Duration.ofMillis(300));
    assertThat(Units.parseDurationOrMillis("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Units.parseDurationOrMillis("-300"))
        .withMessageContaining("or a bare number of milliseconds");
  }

  @Test
  void sizesPrintReadablyAndInAFormTheParserReadsBack() {
    assertThat(Units.formatBytes(512)).isEqualTo("512 bytes");
    assertThat(Units.formatBytes(3L << 29)).isEqualTo("1.50 GiB");
    for (long bytes : new long[] {0, 1000, 4096, 64L << 10, 3L << 29, 1L << 40, 5L << 50}) {
      assertThat(Units.parseSize(Units.formatSize(bytes))).as("%d", bytes).isEqualTo(bytes);
    }
    assertThat(Units.formatSize(64L << 10)).isEqualTo("64k");
    assertThat(Units.formatSize(3L << 29)).isEqualTo("1536m");
    assertThat(Units.formatSize(1L << 40)).isEqualTo("1t");
  }
}
