package io.github.precopy.autoconverge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.SyncPeriod;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import io.github.precopy.spi.testing.RecordingFreePageSink;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The plugin throttles the guest through the SPI as its schedule says, and reports it. */
final class AutoConvergeTest {

  private static final long MIB = 1 << 20;

  private final FakeOptimizationContext context =
      new FakeOptimizationContext(
          List.of(new RamRegion("pc.ram", 0, 64 * MIB)), new RecordingFreePageSink(), null);
  private final MigrationOptimization optimization = new AutoConvergeProvider().create(context);

  private static SyncPeriod period(long sync, long dirtied, long transferred) {
    return new SyncPeriod(sync, 1000, dirtied, transferred, 32 * MIB);
  }

  @Test
  void theServiceLoaderFindsTheCapability() {
    assertThat(ServiceLoader.load(MigrationOptimizationProvider.class))
        .extracting(MigrationOptimizationProvider::capability)
        .contains("auto-converge");
  }

  @Test
  void aGuestThatDirtiesFasterThanTheMigrationSendsIsThrottledStepByStep() {
    int[] expected = {0, 20, 20, 30, 30, 40};
    for (int i = 0; i < expected.length; i++) {
      optimization.onSyncPeriod(period(i + 2, 300 * MIB, 100 * MIB));
      assertThat(context.guestThrottle()).as("period %d", i).isEqualTo(expected[i]);
    }

    assertThat(optimization.statistics())
        .containsEntry("active", true)
        .containsEntry("cpu-throttle-percentage", 40L)
        .containsEntry("throttle-steps", 3L);
  }

  @Test
  void aGuestThatKeepsUpIsNeverThrottled() {
    for (int i = 0; i < 10; i++) {
      optimization.onSyncPeriod(period(i + 2, 10 * MIB, 100 * MIB));
    }

    assertThat(context.guestThrottle()).isZero();
    assertThat(optimization.statistics()).containsEntry("throttle-steps", 0L);
  }

  @Test
  void aGuestThatCannotThrottleIsReportedAndNotAskedAgain() {
    context.guestThrottles(false);

    for (int i = 0; i < 6; i++) {
      optimization.onSyncPeriod(period(i + 2, 300 * MIB, 100 * MIB));
    }

    assertThat(optimization.statistics())
        .containsEntry("active", false)
        .containsEntry("reason", "the guest cannot throttle its vCPUs")
        .containsEntry("cpu-throttle-percentage", 0L)
        .containsEntry("throttle-steps", 0L);
  }

  @Test
  void parametersComeFromTheMigrationsOptionsAndAreCheckedUpFront() {
    AutoConvergeProvider provider = new AutoConvergeProvider();

    assertThatThrownBy(() -> provider.validate(Map.of("cpu-throttle-increment", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cpu-throttle-increment 0 is not 1 to 99");
    provider.validate(Map.of("cpu-throttle-increment", "5", "free-page-hint-other", "x"));
  }
}
