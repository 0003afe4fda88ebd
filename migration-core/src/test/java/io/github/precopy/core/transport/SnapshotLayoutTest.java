package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.core.testing.TestMemories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IncomingMigration#layoutOf}: a snapshot says which RAM layout it was taken from, so it can
 * be restored without being told; a foreign or damaged header is one line of error.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class SnapshotLayoutTest {

  private static final long MIB = 1 << 20;

  @Test
  void aSnapshotStatesItsLayoutAndRestoresVerifiedIntoAMemoryBuiltFromIt(@TempDir Path directory)
      throws Exception {
    Path snapshot = directory.resolve("guest.snapshot");
    GuestMemory memory =
        GuestMemory.builder()
            .anonymousBlock("pc.ram", 0, 8 * MIB)
            .anonymousBlock("vga.vram", 0x10000000L, 2 * MIB)
            .build();
    TestMemories.fillRandomPages(memory, new SplittableRandom(11));
    try (TestGuest guest = new TestGuest(memory)) {
      MigrationStats stats =
          MigrationEngine.create()
              .start(guest, MigrationConfig.defaults(), MigrationTarget.file(snapshot), s -> {})
              .await();
      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);

      RamLayout layout = IncomingMigration.layoutOf(snapshot);

      assertThat(layout.blocks())
          .containsExactly(
              new RamLayout.Block("pc.ram", 0, 8 * MIB),
              new RamLayout.Block("vga.vram", 0x10000000L, 2 * MIB));
      assertThat(layout).isEqualTo(RamLayout.of(memory));
      assertThat(layout.totalBytes()).isEqualTo(10 * MIB);
      try (GuestMemory destination = layout.newMemory()) {
        DestinationReport report = IncomingMigration.restore(snapshot, destination);
        assertThat(report.verified()).as(report.failure()).isTrue();
        assertThat(TestMemories.inUsePagesEqual(guest, destination)).isTrue();
      }
    }
  }

  @Test
  void aForeignEmptyOrDamagedFileIsOneLineOfError(@TempDir Path directory) throws Exception {
    GuestMemory memory = GuestMemory.anonymous(MIB);
    byte[] header = StreamBytes.header(memory).toByteArray();
    byte[] corrupted = Arrays.copyOf(header, header.length);
    corrupted[corrupted.length - 3] ^= 0x01;

    assertOneLineError(directory, "foreign", "#!/bin/sh\necho hello\n".getBytes(), "bad magic");
    assertOneLineError(directory, "empty", new byte[0], "truncated");
    assertOneLineError(directory, "damaged", corrupted, "checksum");
    assertOneLineError(
        directory, "truncated", Arrays.copyOf(header, header.length - 5), "truncated");
    assertOneLineError(
        directory,
        "channel",
        StreamBytes.header(memory, 7, 1, 2).toByteArray(),
        "channel 1 of a 2-channel stream");
    assertOneLineError(
        directory,
        "overlapping",
        StreamBytes.headerWithCount(2)
            .blockEntry("a", 0, 2 * MIB)
            .blockEntry("b", MIB, MIB)
            .toByteArray(),
        "RAM blocks a and b overlap");
    assertThatThrownBy(() -> IncomingMigration.layoutOf(directory.resolve("missing")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("does not exist");
    memory.close();
  }

  @Test
  void aLayoutNoMemoryCanHaveIsRejected() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new RamLayout(List.of()))
        .withMessageContaining("at least one block");
    assertThatIllegalArgumentException()
        .isThrownBy(
            () ->
                new RamLayout(
                    List.of(
                        new RamLayout.Block("a", 0, 4096), new RamLayout.Block("a", 8192, 4096))))
        .withMessageContaining("given twice");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new RamLayout(List.of(new RamLayout.Block("a", 0, 1000))))
        .withMessageContaining("not page-aligned whole pages");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new RamLayout(List.of(new RamLayout.Block("a", 100, 4096))))
        .withMessageContaining("not page-aligned whole pages");
  }

  private static void assertOneLineError(Path directory, String name, byte[] bytes, String expected)
      throws IOException {
    Path file = Files.write(directory.resolve(name), bytes);
    assertThatThrownBy(() -> IncomingMigration.layoutOf(file))
        .as(name)
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith(file.toString())
        .hasMessageContaining(expected)
        .hasMessageNotContaining("\n");
  }
}
