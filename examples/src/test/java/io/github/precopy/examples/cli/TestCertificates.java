package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test certificates for the command line's TLS options. */
final class TestCertificates {

  private TestCertificates() {}

  /**
   * The command line's TLS options for {@code side} ({@code source} or {@code destination}), with
   * the key pairs and a password file made in {@code directory} the first time.
   */
  static synchronized List<String> options(Path directory, String side) throws Exception {
    Path password = directory.resolve("password");
    if (!java.nio.file.Files.exists(password)) {
      make(directory);
      java.nio.file.Files.writeString(password, "changeit\n");
    }
    return List.of(
        "--tls-keystore", directory.resolve(side + ".p12").toString(),
        "--tls-truststore", directory.resolve(side + "-trust.p12").toString(),
        "--tls-password-file", password.toString());
  }

  /** Two self-signed key pairs that trust each other, made with keytool as the README shows. */
  static void make(Path directory) throws Exception {
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    List<List<String>> steps = new ArrayList<>();
    for (String side : List.of("source", "destination")) {
      steps.add(
          List.of(
              "-genkeypair",
              "-alias",
              side,
              "-keyalg",
              "EC",
              "-groupname",
              "secp256r1",
              "-dname",
              "CN=" + side,
              "-validity",
              "2",
              "-storetype",
              "PKCS12",
              "-keystore",
              side + ".p12"));
      steps.add(
          List.of(
              "-exportcert", "-alias", side, "-keystore", side + ".p12", "-file", side + ".crt"));
    }
    steps.add(
        List.of(
            "-importcert",
            "-noprompt",
            "-alias",
            "source",
            "-file",
            "source.crt",
            "-storetype",
            "PKCS12",
            "-keystore",
            "destination-trust.p12"));
    steps.add(
        List.of(
            "-importcert",
            "-noprompt",
            "-alias",
            "destination",
            "-file",
            "destination.crt",
            "-storetype",
            "PKCS12",
            "-keystore",
            "source-trust.p12"));
    for (List<String> step : steps) {
      List<String> command = new ArrayList<>(List.of(keytool));
      command.addAll(step);
      command.addAll(List.of("-storepass", "changeit"));
      Process process =
          new ProcessBuilder(command)
              .directory(directory.toFile())
              .redirectErrorStream(true)
              .start();
      String output = new String(process.getInputStream().readAllBytes());
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as(output).isZero();
    }
  }
}
