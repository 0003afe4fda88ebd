package io.github.precopy.bench;

import io.github.precopy.core.transport.Tls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

/**
 * Throwaway mutual-TLS material in {@code directory}, made with the JDK's {@code keytool} as the
 * README shows: per end ({@code source}, {@code destination}) a self-signed EC P-256 key pair in
 * {@code END.p12} and a trust store {@code END-trust.p12} holding the other end's certificate.
 * Closing deletes the directory.
 */
record TlsPair(Path directory) implements AutoCloseable {

  private static final String PASSWORD = "precopy-bench";

  /** Makes a pair in a fresh temporary directory. */
  static TlsPair create() throws IOException, InterruptedException {
    Path directory = Files.createTempDirectory("precopy-bench-tls-");
    TlsPair pair = new TlsPair(directory);
    try {
      for (String end : List.of("source", "destination")) {
        pair.keytool(
            "-genkeypair",
            "-alias",
            end,
            "-keyalg",
            "EC",
            "-groupname",
            "secp256r1",
            "-dname",
            "CN=precopy-" + end,
            "-validity",
            "2",
            "-storetype",
            "PKCS12",
            "-keystore",
            end + ".p12");
        pair.keytool(
            "-exportcert", "-alias", end, "-keystore", end + ".p12", "-file", end + ".crt");
      }
      pair.trust("source", "destination");
      pair.trust("destination", "source");
    } catch (IOException | InterruptedException | RuntimeException e) {
      try {
        pair.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return pair;
  }

  /** The source's TLS context. */
  SSLContext source() {
    return context("source");
  }

  /** The destination's TLS context. */
  SSLContext destination() {
    return context("destination");
  }

  private SSLContext context(String end) {
    char[] password = PASSWORD.toCharArray();
    return Tls.pkcs12(
        directory.resolve(end + ".p12"), password, directory.resolve(end + "-trust.p12"), password);
  }

  private void trust(String end, String peer) throws IOException, InterruptedException {
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        peer,
        "-file",
        peer + ".crt",
        "-storetype",
        "PKCS12",
        "-keystore",
        end + "-trust.p12");
  }

  private void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    command.addAll(List.of("-storepass", PASSWORD));
    Process process =
        new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException("keytool " + String.join(" ", args) + " failed: " + output.strip());
    }
  }

  /** Deletes the directory and everything in it. */
  @Override
  public void close() throws IOException {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
