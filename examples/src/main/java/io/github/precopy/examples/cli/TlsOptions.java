package io.github.precopy.examples.cli;

import io.github.precopy.core.transport.Tls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The mutual-TLS options shared by {@code migrate} and {@code incoming}: PKCS12 key and trust
 * stores and where their password comes from (a file, or the environment variable {@code
 * PRECOPY_TLS_PASSWORD}; never the command line, which other users can see).
 */
final class TlsOptions {

  static final String PASSWORD_VARIABLE = "PRECOPY_TLS_PASSWORD";

  @Option(
      names = "--tls-keystore",
      paramLabel = "FILE.p12",
      description = "PKCS12 key store with this end's key and certificate; turns on mutual TLS.")
  private Path keyStore;

  @Option(
      names = "--tls-truststore",
      paramLabel = "FILE.p12",
      description = "PKCS12 trust store with the certificates (or CA) of the peers to accept.")
  private Path trustStore;

  @Option(
      names = "--tls-password-file",
      paramLabel = "FILE",
      description =
          "File whose first line is the stores' password (default: the environment variable "
              + PASSWORD_VARIABLE
              + ").")
  private Path passwordFile;

  boolean enabled() {
    return keyStore != null || trustStore != null || passwordFile != null;
  }

  /** The TLS context, or null without TLS options; bad options are a one-line parameter error. */
  SSLContext context(CommandSpec spec) {
    if (!enabled()) {
      return null;
    }
    if (keyStore == null || trustStore == null) {
      throw new ParameterException(
          spec.commandLine(), "TLS needs both --tls-keystore and --tls-truststore");
    }
    char[] password = password(spec);
    try {
      return Tls.pkcs12(keyStore, password, trustStore, password);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  private char[] password(CommandSpec spec) {
    if (passwordFile != null) {
      try {
        return Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream()
            .findFirst()
            .orElse("")
            .toCharArray();
      } catch (NoSuchFileException e) {
        throw new ParameterException(
            spec.commandLine(),
            "--tls-password-file " + passwordFile + ": cannot read it (no such file)");
      } catch (IOException e) {
        throw new ParameterException(
            spec.commandLine(),
            "--tls-password-file " + passwordFile + ": cannot read it (" + e.getMessage() + ")");
      }
    }
    String fromEnvironment = System.getenv(PASSWORD_VARIABLE);
    if (fromEnvironment == null) {
      throw new ParameterException(
          spec.commandLine(),
          "TLS needs the stores' password: --tls-password-file FILE or " + PASSWORD_VARIABLE);
    }
    return fromEnvironment.toCharArray();
  }
}
