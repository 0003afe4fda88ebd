package io.github.precopy.core.testing;

import io.github.precopy.core.transport.Tls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * Self-signed test certificates made with the JDK's {@code keytool}, as the README shows: a source
 * and a destination that trust each other, and an intruder whom neither trusts.
 */
public final class TestCertificates {

  public static final char[] PASSWORD = "changeit".toCharArray();

  private final Path directory;

  private TestCertificates(Path directory) {
    this.directory = directory;
  }

  public static TestCertificates create(Path directory) throws IOException, InterruptedException {
    TestCertificates certificates = new TestCertificates(directory);
    for (String name : List.of("source", "destination", "intruder")) {
      certificates.keytool(
          "-genkeypair",
          "-alias",
          name,
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-dname",
          "CN=" + name,
          "-validity",
          "2",
          "-storetype",
          "PKCS12",
          "-keystore",
          name + ".p12");
      certificates.keytool(
          "-exportcert", "-alias", name, "-keystore", name + ".p12", "-file", name + ".crt");
    }
    certificates.trust("destination-trust.p12", "source");
    certificates.trust("source-trust.p12", "destination");
    return certificates;
  }

  public SSLContext source() {
    return context("source.p12", "source-trust.p12");
  }

  public SSLContext destination() {
    return context("destination.p12", "destination-trust.p12");
  }

  /** An intruder's key, presented to a destination that does not trust it. */
  public SSLContext intruder() {
    return context("intruder.p12", "source-trust.p12");
  }

  public Path path(String file) {
    return directory.resolve(file);
  }

  private SSLContext context(String keyStore, String trustStore) {
    return Tls.pkcs12(path(keyStore), PASSWORD, path(trustStore), PASSWORD);
  }

  private void trust(String store, String certificate) throws IOException, InterruptedException {
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        certificate,
        "-file",
        certificate + ".crt",
        "-storetype",
        "PKCS12",
        "-keystore",
        store);
  }

  private void keytool(String... arguments) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(arguments));
    command.addAll(List.of("-storepass", new String(PASSWORD)));
    Process process =
        new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("keytool " + String.join(" ", arguments) + " failed: " + output);
    }
  }
}
