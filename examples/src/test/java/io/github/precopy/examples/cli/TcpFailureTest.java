package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code migrate --transport tcp} into {@code incoming} when the two do not fit: each end fails
 * promptly and says why once, naming the other end by its own address.
 */
@Timeout(60)
final class TcpFailureTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");

  /** Items 1 and 10 of issue 11, with both ends' default 60 s timeouts. */
  @Test
  void aChannelCountMismatchFailsBothEndsAtOnceNamingBothCountsAndThePeer() throws Exception {
    Cli destination = new Cli();
    CompletableFuture<Integer> incoming =
        CompletableFuture.supplyAsync(
            () ->
                destination.execute(
                    "incoming", "--listen", "127.0.0.1:0", "--memory", "64m", "--channels", "2"));
    String address = awaitListening(destination);
    Cli source = new Cli();
    long start = System.nanoTime();

    int sourceExit =
        source.execute(
            "migrate", "--memory", "64m", "--transport", "tcp", "--to", address, "--channels", "1");
    long sourceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    int destinationExit = incoming.get(5, TimeUnit.SECONDS);
    long destinationMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertThat(sourceExit).isEqualTo(1);
    assertThat(destinationExit).isEqualTo(1);
    assertThat(sourceMillis).isLessThan(5_000);
    assertThat(destinationMillis).isLessThan(5_000);
    assertThat(source.err().lines())
        .singleElement()
        .asString()
        .isEqualTo(
            "precopy migrate: migration failed: the destination "
                + address
                + " refused: the source uses 1 channel, this destination expects 2 (sending to "
                + address
                + ")");
    assertThat(destination.err().lines())
        .hasSize(2)
        .last()
        .asString()
        .matches(
            "precopy incoming: stream from 127\\.0\\.0\\.1:\\d+ failed: the source uses 1 channel,"
                + " this destination expects 2")
        .doesNotContain("from 127.0.0.1:0 ")
        .doesNotContain("from " + address + " ");
    assertThat(destination.out()).startsWith("incoming: 64.00 MiB from 127.0.0.1:");
    assertThat(destination.out().lines().findFirst().orElseThrow())
        .doesNotEndWith(":0")
        .doesNotEndWith(address);
  }

  /** Item 10 of issue 11: the refusal is said once on each end, and the source learns why. */
  @Test
  void aPlainSourceAtATlsDestinationIsToldItNeedsTlsAndEachEndSaysSoOnce(@TempDir Path directory)
      throws Exception {
    Path password = Files.writeString(directory.resolve("password"), "changeit\n");
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
                    "3s",
                    "--tls-keystore",
                    directory.resolve("destination.p12").toString(),
                    "--tls-truststore",
                    directory.resolve("destination-trust.p12").toString(),
                    "--tls-password-file",
                    password.toString()));
    String address = awaitListening(destination);
    Cli source = new Cli();

    int sourceExit =
        source.execute("migrate", "--memory", "64m", "--transport", "tcp", "--to", address);
    int destinationExit = incoming.get(30, TimeUnit.SECONDS);

    assertThat(sourceExit).isEqualTo(1);
    assertThat(source.err().lines())
        .singleElement()
        .asString()
        .contains("refused: it takes only mutual TLS, and this source connects without TLS");
    assertThat(destinationExit).isEqualTo(1);
    String refusal = "a precopy source without TLS; this destination takes only mutual TLS";
    assertThat(destination.err().lines())
        .hasSize(3)
        .satisfies(
            lines -> {
              assertThat(lines.get(1))
                  .matches("precopy incoming: refused connection from 127\\.0\\.0\\.1:\\d+: .*")
                  .endsWith(refusal);
              assertThat(lines.get(2))
                  .isEqualTo(
                      "precopy incoming: no source connected to "
                          + address
                          + " within 3000 ms; 1 connection refused");
            });
  }

  private static String awaitListening(Cli cli) throws InterruptedException {
    Matcher matcher = cli.awaitErr(LISTENING, 20, TimeUnit.SECONDS);
    if (matcher == null) {
      throw new AssertionError("incoming did not listen within 20 s: " + cli.err());
    }
    return matcher.group(1);
  }
}
