package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.precopy.xbzrle.XbzrleProvider;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A destination whose class path lacks the plugin of a page codec the source uses refuses the
 * stream at the handshake, before applying any page, and both ends say why in one line. The
 * destination is {@code precopy incoming} in another JVM, started with this JVM's class path minus
 * the xbzrle plugin, so that its ServiceLoader genuinely cannot find it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class MissingPluginTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (127\\.0\\.0\\.1:\\d+)");
  private static final String REFUSAL =
      "the source uses xbzrle; this destination has no plugin for it (available:";

  @Test
  void aDestinationWithoutTheXbzrlePluginRefusesAnXbzrleStreamAtTheHandshake() throws Exception {
    Process destination =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-cp",
                classPathWithoutXbzrle(),
                Precopy.class.getName(),
                "incoming",
                "--listen",
                "127.0.0.1:0",
                "--memory",
                "64m",
                "--timeout",
                "30s",
                "--output",
                "json")
            .start();
    try {
      CompletableFuture<String> out = read(destination.getInputStream());
      BufferedReader err =
          new BufferedReader(
              new InputStreamReader(destination.getErrorStream(), StandardCharsets.UTF_8));
      String address = awaitListening(err);
      CompletableFuture<String> restOfErr = read(destination.getErrorStream());
      Cli source = new Cli();

      int sourceExit =
          source.execute(
              "migrate",
              "--memory",
              "64m",
              "--vcpus",
              "2",
              "--workload",
              "uniform",
              "--workload-option",
              "area=5%",
              "--seed",
              "1",
              "--capabilities",
              "xbzrle",
              "--transport",
              "tcp",
              "--to",
              address);

      assertThat(destination.waitFor(30, TimeUnit.SECONDS)).as("destination exits").isTrue();
      String destinationErr = restOfErr.get(10, TimeUnit.SECONDS);
      JsonNode received = new ObjectMapper().readTree(out.get(10, TimeUnit.SECONDS));
      assertThat(sourceExit).as(source.out()).isEqualTo(1);
      assertThat(source.err().lines())
          .singleElement()
          .asString()
          .startsWith("precopy migrate: migration failed: ")
          .contains(REFUSAL);
      assertThat(availableIn(source.err())).doesNotContain("xbzrle");
      assertThat(source.out()).containsPattern("status +failed");
      assertThat(destination.exitValue()).as(destinationErr).isEqualTo(1);
      assertThat(destinationErr.lines())
          .singleElement()
          .asString()
          .startsWith("precopy incoming: stream from ")
          .contains(REFUSAL);
      assertThat(destinationErr).doesNotContain("Exception").doesNotContain("\tat ");
      assertThat(received.get("status").asText()).isEqualTo("failed");
      assertThat(received.get("error-desc").asText()).contains(REFUSAL);
      assertThat(received.get("ram").get("normal").asLong()).as("pages applied").isZero();
      assertThat(received.get("ram").get("duplicate").asLong()).as("zero pages").isZero();
      assertThat(received.get("encoded-pages").asLong()).isZero();
    } finally {
      destination.destroyForcibly();
    }
  }

  /** This JVM's class path without the entry XbzrleProvider was loaded from. */
  private static String classPathWithoutXbzrle() throws Exception {
    Path plugin =
        Path.of(XbzrleProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> kept = new ArrayList<>();
    boolean removed = false;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.isEmpty() && Path.of(entry).toAbsolutePath().normalize().equals(plugin)) {
        removed = true;
      } else {
        kept.add(entry);
      }
    }
    assertThat(removed).as("the class path lists the xbzrle plugin " + plugin).isTrue();
    return String.join(File.pathSeparator, kept);
  }

  /** What the refusal lists as available, e.g. "none" in "(available: none)". */
  private static String availableIn(String message) {
    Matcher matcher = Pattern.compile("\\(available: ([^)]*)\\)").matcher(message);
    assertThat(matcher.find()).as(message).isTrue();
    return matcher.group(1);
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

  private static CompletableFuture<String> read(InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            return e.toString();
          }
        });
  }
}
