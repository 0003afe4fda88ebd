package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code migrate --transport tcp} into {@code incoming} over loopback, both in this process: plain
 * and with mutual TLS over several channels.
 */
@Timeout(60)
final class TcpMigrationTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");

  @Test
  void aGuestMigratesOverLoopbackIntoIncoming() throws Exception {
    Cli destination = new Cli();
    CompletableFuture<Integer> incoming =
        CompletableFuture.supplyAsync(
            () ->
                destination.execute(
                    "incoming", "--listen", "127.0.0.1:0", "--memory", "64m", "--timeout", "30s"));
    String address = awaitListening(destination);
    Cli source = new Cli();

    int sourceExit =
        source.execute(
            "migrate",
            "--memory",
            "64m",
            "--vcpus",
            "2",
            "--transport",
            "tcp",
            "--to",
            address,
            "--capabilities",
            "free-page-hint");

    assertThat(sourceExit).as(source.err()).isZero();
    assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
    assertThat(source.out())
        .contains("tcp to " + address)
        .containsPattern("status +completed")
        .containsPattern("hinted [1-9]")
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
    assertThat(destination.out())
        .containsPattern("status +completed, verified")
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
    long sent = bytes(source.out(), "transferred +.*\\(([\\d,]+) bytes\\)");
    long received = bytes(destination.out(), "received +.*\\(([\\d,]+) bytes\\)");
    assertThat(received).isEqualTo(sent);
  }

  /** Both ends on huge pages (JDK 22+), the destination preallocated before the stream arrives. */
  @Test
  void aGuestMigratesIntoAPreallocatedDestinationOnHugePages() throws Exception {
    List<String> memoryFlags =
        Runtime.version().feature() >= 22 ? List.of("--huge-pages") : List.of();
    Cli destination = new Cli();
    List<String> incomingArgs =
        new ArrayList<>(
            List.of(
                "incoming",
                "--listen",
                "127.0.0.1:0",
                "--memory",
                "64m",
                "--timeout",
                "30s",
                "--prealloc"));
    incomingArgs.addAll(memoryFlags);
    CompletableFuture<Integer> incoming =
        CompletableFuture.supplyAsync(
            () -> destination.execute(incomingArgs.toArray(new String[0])));
    String address = awaitListening(destination);
    Cli source = new Cli();
    List<String> migrateArgs =
        new ArrayList<>(
            List.of(
                "migrate",
                "--memory",
                "64m",
                "--vcpus",
                "2",
                "--workload",
                "compile",
                "--transport",
                "tcp",
                "--to",
                address));
    migrateArgs.addAll(memoryFlags);

    int sourceExit = source.execute(migrateArgs.toArray(new String[0]));

    assertThat(sourceExit).as(source.err()).isZero();
    assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
    assertThat(source.out())
        .contains(memoryFlags.isEmpty() ? "64.00 MiB guest," : "64.00 MiB guest on huge pages,")
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
    assertThat(destination.out()).containsPattern("status +completed, verified");
  }

  @Test
  void aGuestMigratesOverThreeChannelsWithMutualTls(@TempDir Path directory) throws Exception {
    Path password = directory.resolve("password");
    Files.writeString(password, "changeit\n");
    TestCertificates.make(directory);
    Cli destination = new Cli();
    CompletableFuture<Integer> incoming =
        CompletableFuture.supplyAsync(
            () ->
                destination.execute(
                    "incoming",
                    "--listen",
                    "127.0.0.1:0",
                    "--memory",
                    "64m",
                    "--timeout",
                    "30s",
                    "--channels",
                    "3",
                    "--tls-keystore",
                    directory.resolve("destination.p12").toString(),
                    "--tls-truststore",
                    directory.resolve("destination-trust.p12").toString(),
                    "--tls-password-file",
                    password.toString()));
    String address = awaitListening(destination);
    Cli source = new Cli();

    int sourceExit =
        source.execute(
            "migrate",
            "--memory",
            "64m",
            "--workload",
            "compile",
            "--transport",
            "tcp",
            "--to",
            address,
            "--channels",
            "3",
            "--tls-keystore",
            directory.resolve("source.p12").toString(),
            "--tls-truststore",
            directory.resolve("source-trust.p12").toString(),
            "--tls-password-file",
            password.toString());

    assertThat(sourceExit).as(source.err()).isZero();
    assertThat(incoming.get(30, TimeUnit.SECONDS)).as(destination.err()).isZero();
    assertThat(destination.err()).contains("(mutual TLS)");
    assertThat(destination.out()).containsPattern("status +completed, verified");
    assertThat(source.out())
        .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
  }

  @Test
  void incomingGivesUpWhenNoSourceConnectsInTime() {
    Cli destination = new Cli();

    int exitCode = destination.execute("incoming", "--listen", "127.0.0.1:0", "--timeout", "200ms");

    assertThat(exitCode).isEqualTo(1);
    assertThat(destination.err().lines())
        .hasSize(2)
        .last()
        .asString()
        .matches("precopy incoming: no source connected to 127\\.0\\.0\\.1:\\d+ within 200 ms");
  }

  @Test
  void migrateSaysSoWhenNothingListens() {
    Cli source = new Cli();

    int exitCode =
        source.execute("migrate", "--memory", "64m", "--transport", "tcp", "--to", "127.0.0.1:1");

    assertThat(exitCode).isEqualTo(1);
    assertThat(source.err().lines())
        .singleElement()
        .asString()
        .startsWith("precopy migrate: migration failed: cannot connect to 127.0.0.1:1:");
  }

  private static String awaitListening(Cli cli) throws InterruptedException {
    Matcher matcher = cli.awaitErr(LISTENING, 20, TimeUnit.SECONDS);
    if (matcher == null) {
      throw new AssertionError("incoming did not listen within 20 s: " + cli.err());
    }
    return matcher.group(1);
  }

  private static long bytes(String text, String pattern) {
    Matcher matcher = Pattern.compile(pattern).matcher(text);
    assertThat(matcher.find()).as(text).isTrue();
    return Long.parseLong(matcher.group(1).replace(",", ""));
  }
}
