package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
 * Issue #6's acceptance: a busy 1 GiB guest migrates from this JVM to {@code precopy incoming} in
 * another JVM over loopback, plain and with mutual TLS, and both ends report a verified migration.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
final class TwoProcessMigrationTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");

  @Test
  void aBusyGuestMigratesToAnotherJvmVerifiedOverPlainTcp() throws Exception {
    assertMigratesToAnotherJvm(List.of(), List.of());
  }

  @Test
  void aBusyGuestMigratesToAnotherJvmVerifiedOverMutualTls(@TempDir Path directory)
      throws Exception {
    TestCertificates.make(directory);
    Path password = Files.writeString(directory.resolve("password"), "changeit\n");
    assertMigratesToAnotherJvm(
        tls(directory, "source", password), tls(directory, "destination", password));
  }

  private static List<String> tls(Path directory, String side, Path password) {
    return List.of(
        "--tls-keystore", directory.resolve(side + ".p12").toString(),
        "--tls-truststore", directory.resolve(side + "-trust.p12").toString(),
        "--tls-password-file", password.toString());
  }

  private static void assertMigratesToAnotherJvm(
      List<String> sourceTls, List<String> destinationTls) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                Precopy.class.getName(),
                "incoming",
                "--listen",
                "127.0.0.1:0",
                "--memory",
                "1g",
                "--channels",
                "2",
                "--timeout",
                "120s"));
    command.addAll(destinationTls);
    Process destination = new ProcessBuilder(command).start();
    try {
      CompletableFuture<String> out = read(destination.getInputStream());
      BufferedReader err =
          new BufferedReader(
              new InputStreamReader(destination.getErrorStream(), StandardCharsets.UTF_8));
      String address = awaitListening(err);
      CompletableFuture<String> restOfErr = read(destination.getErrorStream());
      Cli source = new Cli();
      List<String> migrate =
          new ArrayList<>(
              List.of(
                  "migrate",
                  "--memory",
                  "1g",
                  "--workload",
                  "compile",
                  "--vcpus",
                  "2",
                  "--transport",
                  "tcp",
                  "--to",
                  address,
                  "--channels",
                  "2"));
      migrate.addAll(sourceTls);

      int sourceExit = source.execute(migrate.toArray(String[]::new));

      assertThat(destination.waitFor(120, TimeUnit.SECONDS)).as("destination exits").isTrue();
      String destinationOut = out.get(10, TimeUnit.SECONDS);
      assertThat(sourceExit).as(source.err()).isZero();
      assertThat(source.out())
          .containsPattern("status +completed")
          .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
      assertThat(destination.exitValue()).as(restOfErr.get(10, TimeUnit.SECONDS)).isZero();
      assertThat(destinationOut)
          .containsPattern("status +completed, verified")
          .containsPattern("verification +[1-9][\\d,]* pages checked, 0 mismatches");
      assertThat(pagesChecked(destinationOut)).isEqualTo(pagesChecked(source.out()));
    } finally {
      destination.destroyForcibly();
    }
  }

  private static String awaitListening(BufferedReader err) throws IOException {
    String line;
    while ((line = err.readLine()) != null) {
      Matcher matcher = LISTENING.matcher(line);
      if (matcher.find()) {
        return matcher.group(1);
      }
    }
    throw new AssertionError("the destination ended before listening");
  }

  private static CompletableFuture<String> read(java.io.InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            return e.toString();
          }
        });
  }

  private static long pagesChecked(String report) {
    Matcher matcher = Pattern.compile("verification +([\\d,]+) pages checked").matcher(report);
    assertThat(matcher.find()).as(report).isTrue();
    return Long.parseLong(matcher.group(1).replace(",", ""));
  }
}
