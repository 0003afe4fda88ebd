package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.github.precopy.sim.Units;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.ParseResult;

/** Sizes, durations and addresses as the command line reads and writes them. */
final class ParsingTest {

  @Test
  void sizesTakeBinarySuffixesInEitherCase() {
    assertThat(Units.parseSize("4096")).isEqualTo(4096);
    assertThat(Units.parseSize("64k")).isEqualTo(64L << 10);
    assertThat(Units.parseSize("2G")).isEqualTo(2L << 30);
    assertThat(Units.parseSize("1.5m")).isEqualTo(3L << 19);
    assertThat(Units.parseSize("100t")).isEqualTo(100L << 40);
  }

  @Test
  void sizesRejectWhatIsNotAWholeNumberOfBytes() {
    for (String text : new String[] {"", "2x", "-1", "g", "1.0000001k", "9000000t", "1 kb"}) {
      assertThatIllegalArgumentException().as(text).isThrownBy(() -> Units.parseSize(text));
    }
  }

  @Test
  void sizesPrintInTheLargestUnitThatKeepsAWholePart() {
    assertThat(Sizes.format(512)).isEqualTo("512 bytes");
    assertThat(Sizes.format(3L << 29)).isEqualTo("1.50 GiB");
    assertThat(Sizes.format(64L << 20)).isEqualTo("64.00 MiB");
  }

  @Test
  void durationsTakeAUnitAndStayWithinADay() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("60s")).isEqualTo(Duration.ofSeconds(60));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("24h")).isEqualTo(Duration.ofHours(24));
    // One rule for every quantity (io.github.precopy.sim.Units): a fraction is fine when it comes
    // to whole milliseconds, as 1.5m is fine for a size.
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    for (String text : new String[] {"60", "0s", "25h", "-1s", "0.5ms", "99999999999999999999h"}) {
      assertThatIllegalArgumentException().as(text).isThrownBy(() -> Durations.parse(text));
    }
    assertThat(Durations.describe(Duration.ofSeconds(60))).isEqualTo("60 s");
    assertThat(Durations.describe(Duration.ofMillis(1500))).isEqualTo("1500 ms");
  }

  @Test
  void everySizeRateAndDurationOptionTakesUnits() {
    ParseResult migrate =
        Precopy.commandLine()
            .parseArgs(
                "migrate",
                "--memory",
                "1.5g",
                "--max-bandwidth",
                "1t/s",
                "--downtime-limit",
                "300ms",
                "--connect-timeout",
                "1.5s",
                "--io-timeout",
                "2m",
                "--timeout",
                "1h")
            .subcommand();

    assertThat(migrate.<Long>matchedOptionValue("--memory", 0L)).isEqualTo(3L << 29);
    assertThat(migrate.<Long>matchedOptionValue("--max-bandwidth", 0L)).isEqualTo(1L << 40);
    assertThat(migrate.<Duration>matchedOptionValue("--downtime-limit", null))
        .isEqualTo(Duration.ofMillis(300));
    assertThat(migrate.<Duration>matchedOptionValue("--connect-timeout", null))
        .isEqualTo(Duration.ofMillis(1500));
    assertThat(migrate.<Duration>matchedOptionValue("--io-timeout", null))
        .isEqualTo(Duration.ofMinutes(2));
    assertThat(migrate.<Duration>matchedOptionValue("--timeout", null))
        .isEqualTo(Duration.ofHours(1));
    ParseResult incoming =
        Precopy.commandLine()
            .parseArgs("incoming", "--memory", "64M", "--timeout", "90s")
            .subcommand();
    assertThat(incoming.<Long>matchedOptionValue("--memory", 0L)).isEqualTo(64L << 20);
    assertThat(incoming.<Duration>matchedOptionValue("--timeout", null))
        .isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void theDowntimeLimitStillTakesABareNumberOfMilliseconds() {
    ParseResult migrate =
        Precopy.commandLine().parseArgs("migrate", "--downtime-limit", "300").subcommand();

    assertThat(migrate.<Duration>matchedOptionValue("--downtime-limit", null))
        .isEqualTo(Duration.ofMillis(300));
  }

  @Test
  void addressesAreHostColonPortWithIpv6InBrackets() {
    assertThat(HostPort.parse("127.0.0.1:4444")).isEqualTo(new HostPort("127.0.0.1", 4444));
    assertThat(HostPort.parse("[::1]:0")).isEqualTo(new HostPort("::1", 0));
    assertThat(new HostPort("::1", 80)).hasToString("[::1]:80");
    for (String text : new String[] {"4444", ":4444", "host:", "::1:80", "host:65536", "h:-1"}) {
      assertThatIllegalArgumentException().as(text).isThrownBy(() -> HostPort.parse(text));
    }
  }
}
