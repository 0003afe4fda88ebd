package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.memory.GuestMemory;
import org.junit.jupiter.api.Test;

/** The limits {@link MigrationConfig} puts on its parameters. */
final class MigrationConfigTest {

  @Test
  void aBandwidthBelowOnePagePerWindowIsRefusedNamingTheLeastThatWorks() {
    for (long tooLow : new long[] {1, 4095, 4096, 40_959}) {
      assertThatThrownBy(() -> MigrationConfig.builder().maxBandwidth(tooLow))
          .as("%d bytes/s", tooLow)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "max-bandwidth must be at least 40960 bytes/s (one 4096-byte page per 100 ms"
                  + " window), got "
                  + tooLow
                  + " bytes/s");
    }
  }

  @Test
  void onePagePerWindowIsTheLowestBandwidthLimit() {
    assertThat(MigrationConfig.MIN_BANDWIDTH).isEqualTo(GuestMemory.PAGE_SIZE * 10L);

    MigrationConfig config =
        MigrationConfig.builder().maxBandwidth(MigrationConfig.MIN_BANDWIDTH).build();

    assertThat(config.maxBandwidthBytesPerSecond()).isEqualTo(40_960);
  }

  @Test
  void aBandwidthThatIsNotPositiveIsStillRefusedAsSuch() {
    assertThatThrownBy(() -> MigrationConfig.builder().maxBandwidth(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("max-bandwidth must be positive, got 0 bytes/s");
  }
}
