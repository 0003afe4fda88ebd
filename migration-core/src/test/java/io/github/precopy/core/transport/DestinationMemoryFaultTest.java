package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.testing.Loopback;
import io.github.precopy.core.testing.TestGuest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination whose memory faults mid-stream, as when {@code /dev/shm} fills up: simulated with a
 * file-backed block whose file is truncated after mapping, so that the next store to it raises the
 * JVM's {@link InternalError}, as a tmpfs with no page left does. The stream fails with one line
 * naming the block and the free space, the destination replies with it, and the source fails with
 * it rather than with a broken pipe.
 *
 * <p>The guests hold data pages only and the source does not verify, so the destination only
 * stores: a full tmpfs faults stores to new pages, while the pages a destination reads (to skip a
 * zero page, to check a digest) are pages it stored to, which are there. A truncated file faults
 * reads too, and JDK 17 turns a fault into an {@link InternalError} for stores and copies but not
 * in its vectorised compare and checksum routines, where it stops the JVM.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class DestinationMemoryFaultTest {

  private static final long MIB = 1 << 20;
  private static final int PAGE = GuestMemory.PAGE_SIZE;

  private final MigrationEngine engine = MigrationEngine.create();

  @Test
  void aFaultAtTheDestinationFailsBothEndsWithOneLineNamingTheFreeSpace(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("destination.ram");
    try (TestGuest guest = dataPagesOnly(8 * MIB, 21);
        GuestMemory destination = faultingMemory(file, 8 * MIB)) {
      Loopback loopback = Loopback.receive(destination, TransportOptions.defaults());

      MigrationStats stats =
          engine
              .start(
                  guest,
                  MigrationConfig.builder().verify(false).build(),
                  MigrationTarget.tcp("127.0.0.1", loopback.port(), TransportOptions.defaults()),
                  s -> {})
              .await();
      DestinationReport report = loopback.awaitReport();

      assertThat(report.completed()).isFalse();
      assertThat(report.failure()).matches(faultLine(file));
      assertThat(stats.status()).isEqualTo(MigrationStatus.FAILED);
      assertThat(stats.errorDescription())
          .doesNotContain("\n")
          .doesNotContain("Broken pipe")
          .contains(report.failure());
      assertThat(guest.isRunning()).as("the source guest runs on").isTrue();
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void aFaultWhileRestoringIsReportedAsAFailedStream(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
    try (TestGuest guest = dataPagesOnly(4 * MIB, 22)) {
      MigrationStats stats =
          engine
              .start(guest, MigrationConfig.builder().verify(false).build(), snapshot, s -> {})
              .await();
      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
    }
    Path file = dir.resolve("restored.ram");
    try (GuestMemory destination = faultingMemory(file, 4 * MIB)) {
      DestinationReport report =
          IncomingMigration.restore(new ByteArrayInputStream(snapshot.toByteArray()), destination);

      assertThat(report.completed()).isFalse();
      assertThat(report.failure()).matches(faultLine(file));
    }
  }

  /**
   * Once the receiving loop runs compiled, JDK 17 throws a fault only when the thread next enters
   * the VM, possibly after the stream has been reported complete; the destination must surface it
   * before it reports anything. The loop is warmed up on good restores first, as in a long
   * migration, then restores into memory whose last page faults, the last page the stream stores.
   */
  @Test
  void aFaultOfTheCompiledLoopIsReportedBeforeTheStreamCompletes(@TempDir Path dir)
      throws Exception {
    ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
    try (TestGuest guest = dataPagesOnly(4 * MIB, 23)) {
      engine
          .start(guest, MigrationConfig.builder().verify(false).build(), snapshot, s -> {})
          .await();
    }
    byte[] stream = snapshot.toByteArray();
    try (GuestMemory good = GuestMemory.anonymous(4 * MIB)) {
      for (int warmUp = 0; warmUp < 60; warmUp++) {
        assertThat(IncomingMigration.restore(new ByteArrayInputStream(stream), good).completed())
            .isTrue();
      }
    }
    Path file = dir.resolve("restored.ram");
    for (int attempt = 0; attempt < 3; attempt++) {
      try (GuestMemory destination = faultingMemory(file, 4 * MIB, 4 * MIB - PAGE)) {
        DestinationReport report =
            IncomingMigration.restore(new ByteArrayInputStream(stream), destination);
        GuestMemory.checkPendingFault();

        assertThat(report.completed()).as("attempt %d", attempt).isFalse();
        assertThat(report.failure())
            .matches(faultLine(file))
            .startsWith("memory fault at page " + (4 * MIB / PAGE - 1) + " ");
      }
    }
  }

  /** A guest of one block whose every page holds seeded random bytes: no page is zero. */
  private static TestGuest dataPagesOnly(long bytes, long seed) {
    GuestMemory memory = GuestMemory.anonymous(bytes);
    SplittableRandom random = new SplittableRandom(seed);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < bytes; address += page.length) {
      random.nextBytes(page);
      page[0] |= 1;
      memory.write(address, page, 0, page.length);
    }
    return new TestGuest(memory);
  }

  /** A file-backed memory whose file is then truncated: every access to it faults. */
  private static GuestMemory faultingMemory(Path file, long bytes) throws Exception {
    return faultingMemory(file, bytes, 0);
  }

  /** A file-backed memory whose file is then cut to {@code length}: the pages past it fault. */
  private static GuestMemory faultingMemory(Path file, long bytes, long length) throws Exception {
    GuestMemory memory = GuestMemory.builder().fileBackedBlock("pc.ram", 0, bytes, file).build();
    try (RandomAccessFile truncate = new RandomAccessFile(file.toFile(), "rw")) {
      truncate.setLength(length);
    }
    return memory;
  }

  private static String faultLine(Path file) {
    return "memory fault at page \\d+ of RAM block pc\\.ram \\(mapped from "
        + Pattern.quote(file.toString())
        + ", [\\d.]+ [KMGTPE]iB free\\): the file system is full or the file was truncated";
  }
}
