package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code migrate --transport tcp} into {@code incoming} over loopback, both in this process. */
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
        .containsPattern("hinted [1-9]");
    assertThat(destination.out()).containsPattern("status +completed");
    long sent = bytes(source.out(), "transferred +.*\\(([\\d,]+) bytes\\)");
    long received = bytes(destination.out(), "received +.*\\(([\\d,]+) bytes\\)");
    assertThat(received).isEqualTo(sent);
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
        .startsWith("precopy migrate: cannot connect to 127.0.0.1:1:");
  }

  private static String awaitListening(Cli cli) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      Matcher matcher = LISTENING.matcher(cli.err());
      if (matcher.find()) {
        return matcher.group(1);
      }
      Thread.sleep(10);
    }
    throw new AssertionError("incoming did not listen: " + cli.err());
  }

  private static long bytes(String text, String pattern) {
    Matcher matcher = Pattern.compile(pattern).matcher(text);
    assertThat(matcher.find()).as(text).isTrue();
    return Long.parseLong(matcher.group(1).replace(",", ""));
  }
}
