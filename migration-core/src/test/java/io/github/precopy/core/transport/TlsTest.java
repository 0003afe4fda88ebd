package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link Tls#pkcs12} says about stores it cannot use. */
final class TlsTest {

  @TempDir static Path directory;
  private static TestCertificates certificates;

  @BeforeAll
  static void makeCertificates() throws Exception {
    certificates = TestCertificates.create(directory);
  }

  /** Item 10 of issue 11: keytool's DER certificate given where a key store belongs. */
  @Test
  void aDerCertificateGivenAsKeyStoreIsNamedForWhatItIs() {
    Path certificate = certificates.path("source.crt");

    assertThatThrownBy(
            () ->
                Tls.pkcs12(
                    certificate,
                    TestCertificates.PASSWORD,
                    certificates.path("source-trust.p12"),
                    TestCertificates.PASSWORD))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "cannot read key store "
                + certificate
                + " as PKCS12: it holds an X.509 certificate, not a PKCS12 store")
        .hasMessageNotContaining("DerValue");
  }

  @Test
  void aPemCertificateGivenAsTrustStoreIsNamedForWhatItIs() throws Exception {
    Path pem = directory.resolve("destination.pem");
    byte[] der = Files.readAllBytes(certificates.path("destination.crt"));
    Files.writeString(
        pem,
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der)
            + "\n-----END CERTIFICATE-----\n");

    assertThatThrownBy(
            () ->
                Tls.pkcs12(
                    certificates.path("source.p12"),
                    TestCertificates.PASSWORD,
                    pem,
                    TestCertificates.PASSWORD))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "cannot read trust store "
                + pem
                + " as PKCS12: it holds an X.509 certificate, not a PKCS12 store");
  }

  @Test
  void aFileOfOtherBytesIsNotPkcs12() throws Exception {
    Path text = Files.writeString(directory.resolve("notes.txt"), "not a key store\n");

    assertThatThrownBy(
            () ->
                Tls.pkcs12(
                    text,
                    TestCertificates.PASSWORD,
                    certificates.path("source-trust.p12"),
                    TestCertificates.PASSWORD))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("cannot read key store " + text + " as PKCS12: it is not PKCS12");
  }
}
