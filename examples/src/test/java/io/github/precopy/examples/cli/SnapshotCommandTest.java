package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code migrate --transport file} writes a snapshot that {@code incoming --from-file} verifies.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class SnapshotCommandTest {

  @Test
  void aSnapshotRestoresVerifiedAndACorruptedCopyIsRejectedInOneLine(@TempDir Path directory)
      throws Exception {
    Path snapshot = directory.resolve("guest.snapshot");
    Cli source = new Cli();

    int written =
        source.execute(
            "migrate",
            "--memory",
            "32m",
            "--workload",
            "compile",
            "--transport",
            "file",
            "--to",
            snapshot.toString());
    Cli restore = new Cli();
    int restored =
        restore.execute("incoming", "--from-file", snapshot.toString(), "--memory", "32m");
    byte[] bytes = Files.readAllBytes(snapshot);
    bytes[bytes.length / 2] ^= 0x10;
    Path corrupted = Files.write(directory.resolve("corrupted.snapshot"), bytes);
    Cli rejected = new Cli();
    int rejectedExit =
        rejected.execute("incoming", "--from-file", corrupted.toString(), "--memory", "32m");

    assertThat(written).as(source.err()).isZero();
    assertThat(source.out()).contains("file to " + snapshot).containsPattern("status +completed");
    assertThat(directory.resolve("guest.snapshot.partial")).doesNotExist();
    assertThat(restored).as(restore.err()).isZero();
    assertThat(restore.out())
        .containsPattern("status +completed, verified")
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
    assertThat(rejectedExit).isEqualTo(1);
    assertThat(rejected.err().lines())
        .singleElement()
        .asString()
        .startsWith("precopy incoming: stream from " + corrupted + " failed: ")
        .contains("checksum");
    assertThat(rejected.err()).doesNotContain("Exception").doesNotContain("at io.");
  }

  @Test
  void aSnapshotRestoresWithoutMemoryIntoTheLayoutItsHeaderStates(@TempDir Path directory) {
    Path snapshot = directory.resolve("guest.snapshot");
    assertThat(
            new Cli()
                .execute(
                    "migrate",
                    "--memory",
                    "48m",
                    "--transport",
                    "file",
                    "--to",
                    snapshot.toString()))
        .isZero();
    Cli restore = new Cli();

    int exit = restore.execute("incoming", "--from-file", snapshot.toString());

    assertThat(exit).as(restore.err()).isZero();
    assertThat(restore.out())
        .startsWith("incoming: 48.00 MiB from " + snapshot)
        .containsPattern("status +completed, verified")
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
    assertThat(restore.err()).isEmpty();
  }

  @Test
  void aFileThatIsNoSnapshotIsOneLineWithoutMemory(@TempDir Path directory) throws Exception {
    Path foreign = Files.writeString(directory.resolve("notes.txt"), "not a snapshot\n");
    Path empty = Files.write(directory.resolve("empty.snapshot"), new byte[0]);

    for (Path file : new Path[] {foreign, empty}) {
      Cli restore = new Cli();
      int exit = restore.execute("incoming", "--from-file", file.toString(), "--output", "json");

      assertThat(exit).as(file.toString()).isEqualTo(1);
      assertThat(restore.out()).isEmpty();
      assertThat(restore.err().lines())
          .singleElement()
          .asString()
          .startsWith("precopy incoming: " + file + " is not a precopy snapshot: ");
      assertThat(restore.err()).doesNotContain("Exception").doesNotContain("at io.");
    }
  }

  @Test
  void aSnapshotOfAnotherSizeIsRejectedNamingTheDifference(@TempDir Path directory) {
    Path snapshot = directory.resolve("guest.snapshot");
    assertThat(
            new Cli()
                .execute(
                    "migrate",
                    "--memory",
                    "32m",
                    "--transport",
                    "file",
                    "--to",
                    snapshot.toString()))
        .isZero();
    Cli restore = new Cli();

    int exit = restore.execute("incoming", "--from-file", snapshot.toString(), "--memory", "16m");

    assertThat(exit).isEqualTo(1);
    assertThat(restore.err()).contains("used length 33554432, destination's has 16777216");
  }
}
