package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Sizes, durations and addresses as the command line reads and writes them. */
final class ParsingTest {

  @Test
  void sizesTakeBinarySuffixesInEitherCase() {
    assertThat(Sizes.parse("4096")).isEqualTo(4096);
    assertThat(Sizes.parse("64k")).isEqualTo(64L << 10);
    assertThat(Sizes.parse("2G")).isEqualTo(2L << 30);
    assertThat(Sizes.parse("1.5m")).isEqualTo(3L << 19);
    assertThat(Sizes.parse("100t")).isEqualTo(100L << 40);
  }

  @Test
  void sizesRejectWhatIsNotAWholeNumberOfBytes() {
    for (String text : new String[] {"", "2x", "-1", "g", "1.0000001k", "9000000t", "1 kb"}) {
      assertThatIllegalArgumentException().as(text).isThrownBy(() -> Sizes.parse(text));
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
    for (String text : new String[] {"60", "0s", "25h", "-1s", "1.5s", "99999999999999999999h"}) {
      assertThatIllegalArgumentException().as(text).isThrownBy(() -> Durations.parse(text));
    }
    assertThat(Durations.describe(Duration.ofSeconds(60))).isEqualTo("60 s");
    assertThat(Durations.describe(Duration.ofMillis(1500))).isEqualTo("1500 ms");
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
