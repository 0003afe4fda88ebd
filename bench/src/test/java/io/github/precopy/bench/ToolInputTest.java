package io.github.precopy.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.transport.DestinationReport;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** What the command-line tools read: memory sizes, and the destination process's report line. */
final class ToolInputTest {

  @Test
  void memorySizes_takeBinarySuffixesAndWholePages() {
    MemorySize size = new MemorySize();
    assertThat(size.convert("4096")).isEqualTo(4096L);
    assertThat(size.convert("64m")).isEqualTo(64L << 20);
    assertThat(size.convert("2G")).isEqualTo(2L << 30);
    assertThat(size.convert("1t")).isEqualTo(1L << 40);
    // The size rules of the whole project (io.github.precopy.sim.Units): a fraction is fine when it
    // comes to whole bytes, here whole pages.
    assertThat(size.convert("1.5g")).isEqualTo(3L << 29);
    for (String wrong :
        new String[] {"0", "5k", "1000", "-1g", "1.0001g", "g", "64x", "99999999t"}) {
      assertThatThrownBy(() -> size.convert(wrong))
          .as(wrong)
          .isInstanceOf(TypeConversionException.class)
          .hasMessageContaining("'" + wrong + "' is not a memory size");
    }
  }

  @Test
  void durations_takeUnitsAndDowntimeLimitsABareNumberOfMilliseconds() {
    assertThat(new Durations.Timeout().convert("120s")).isEqualTo(Duration.ofSeconds(120));
    assertThat(new Durations.Timeout().convert("1.5m")).isEqualTo(Duration.ofSeconds(90));
    assertThat(new Durations.DowntimeLimit().convert("400")).isEqualTo(Duration.ofMillis(400));
    assertThat(new Durations.DowntimeLimit().convert("2s")).isEqualTo(Duration.ofSeconds(2));
    for (String wrong : new String[] {"120", "0s", "-1s", "soon"}) {
      assertThatThrownBy(() -> new Durations.Timeout().convert(wrong))
          .as(wrong)
          .isInstanceOf(TypeConversionException.class)
          .hasMessageContaining("'" + wrong + "' is not a");
    }
    assertThatThrownBy(() -> new Durations.DowntimeLimit().convert("0"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("'0' is not a positive duration");
  }

  @Test
  void reportLine_roundTripsTheDestinationsReport() {
    DestinationReport verified = new DestinationReport(true, 16384, 0, 0, 67311748, 16384, 0, null);
    DestinationReport failed =
        new DestinationReport(false, 3, 1, 0, 4096, 0, 0, "bad frame\tat 12\nchannel 0");
    assertThat(ReportLine.parse(new ReportLine(verified, 53).format()))
        .isEqualTo(new ReportLine(verified, 53));
    assertThat(ReportLine.parse(new ReportLine(failed, 7).format()).report().failure())
        .isEqualTo("bad frame at 12 channel 0");
  }
}
