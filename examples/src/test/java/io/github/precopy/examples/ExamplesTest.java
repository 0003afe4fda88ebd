package io.github.precopy.examples;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs every example's main, which throws unless its migration arrived intact. */
@Timeout(60)
final class ExamplesTest {

  private static final String[] NO_ARGUMENTS = {};

  @Test
  void plainPrecopyMigratesASimulatedGuestIntact() {
    assertThatCode(() -> PlainPrecopyExample.main(NO_ARGUMENTS)).doesNotThrowAnyException();
  }

  @Test
  void aGuestMigratesOverTcpAndBothEndsReportItVerified() {
    assertThatCode(() -> TcpMigrationExample.main(NO_ARGUMENTS)).doesNotThrowAnyException();
  }

  @Test
  void freePageHintSkipsTheMemoryTheGuestReportsFree() {
    assertThatCode(() -> FreePageHintExample.main(NO_ARGUMENTS)).doesNotThrowAnyException();
  }

  @Test
  void aCustomPluginKeepsTheScratchRegionFromBeingSent() {
    assertThatCode(() -> CustomOptimizationExample.main(NO_ARGUMENTS)).doesNotThrowAnyException();
  }

  @Test
  void ownMemoryArrivesIntactWhileItsWriterRuns() {
    assertThatCode(() -> OwnMemoryExample.main(NO_ARGUMENTS)).doesNotThrowAnyException();
  }

  @Test
  void anOffHeapTableWrittenWithPlainStoresArrivesInAnotherProcessOrTheJdkIsNamed() {
    if (Runtime.version().feature() < 22) {
      assertThatThrownBy(() -> OffHeapTableExample.main(NO_ARGUMENTS))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageStartingWith("kernel dirty tracking needs JDK 22 or later");
      return;
    }
    assertThatCode(() -> OffHeapTableExample.main(NO_ARGUMENTS)).doesNotThrowAnyException();
  }
}
