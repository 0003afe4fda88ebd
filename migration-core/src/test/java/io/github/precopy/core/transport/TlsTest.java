package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link Tls#pkcs12} says about stores it cannot use; which cipher suite {@link Tls#configure}
 * makes the two ends negotiate.
 */
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

  @Test
  void twoConfiguredEndsNegotiateThePreferredSuiteWithMutualAuthentication() throws Exception {
    SSLSocket[] ends =
        handshake(
            server -> Tls.configure(server, true),
            client -> Tls.configure(client, false),
            certificates.source());

    assertThat(ends[0].getSession().getProtocol()).isEqualTo("TLSv1.3");
    assertThat(ends[0].getSession().getCipherSuite()).isEqualTo(Tls.PREFERRED_CIPHER_SUITE);
    assertThat(ends[1].getSession().getCipherSuite()).isEqualTo(Tls.PREFERRED_CIPHER_SUITE);
    assertThat(ends[0].getSession().getPeerCertificates()).hasSize(1);
    close(ends);
  }

  /** An older source keeps the JDK's order, AES-256 first: the destination's order decides. */
  @Test
  void theDestinationsOrderWinsOverASourceWithTheJdksOrder() throws Exception {
    SSLSocket[] ends =
        handshake(
            server -> Tls.configure(server, true),
            client -> {
              SSLParameters parameters = client.getSSLParameters();
              parameters.setProtocols(new String[] {"TLSv1.3"});
              parameters.setCipherSuites(
                  new String[] {
                    "TLS_AES_256_GCM_SHA384",
                    "TLS_AES_128_GCM_SHA256",
                    "TLS_CHACHA20_POLY1305_SHA256"
                  });
              client.setSSLParameters(parameters);
            },
            certificates.source());

    assertThat(ends[1].getSession().getCipherSuite()).isEqualTo(Tls.PREFERRED_CIPHER_SUITE);
    close(ends);
  }

  /** The other suites stay enabled, for a peer that does not offer the preferred one. */
  @Test
  void aPeerWithoutThePreferredSuiteGetsAnother() throws Exception {
    SSLSocket[] ends =
        handshake(
            server -> Tls.configure(server, true),
            client -> {
              Tls.configure(client, false);
              client.setEnabledCipherSuites(new String[] {"TLS_AES_256_GCM_SHA384"});
            },
            certificates.source());

    assertThat(ends[1].getSession().getCipherSuite()).isEqualTo("TLS_AES_256_GCM_SHA384");
    close(ends);
  }

  @Test
  void thePreferredSuiteGoesFirstAndNoneIsLost() {
    String[] enabled = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_X"};

    assertThat(Tls.preferred(enabled))
        .containsExactly("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_X");
    assertThat(Tls.preferred(new String[] {"TLS_X"})).containsExactly("TLS_X");
  }

  /**
   * Connects a client with {@code clientContext} to a destination's context over loopback, each
   * socket set up by its consumer, and completes the handshake: {server, client}.
   */
  private static SSLSocket[] handshake(
      Consumer<SSLSocket> server, Consumer<SSLSocket> client, SSLContext clientContext)
      throws Exception {
    try (SSLServerSocket listener =
        (SSLServerSocket)
            certificates
                .destination()
                .getServerSocketFactory()
                .createServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      CompletableFuture<SSLSocket> accepted =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  SSLSocket socket = (SSLSocket) listener.accept();
                  socket.setSoTimeout(10_000);
                  server.accept(socket);
                  socket.startHandshake();
                  // TLS 1.3: the client learns that its certificate was accepted on its first read.
                  socket.getOutputStream().write(1);
                  socket.getOutputStream().flush();
                  return socket;
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      SSLSocket socket =
          (SSLSocket)
              clientContext
                  .getSocketFactory()
                  .createSocket(listener.getInetAddress(), listener.getLocalPort());
      socket.setSoTimeout(10_000);
      client.accept(socket);
      socket.startHandshake();
      assertThat(socket.getInputStream().read()).isEqualTo(1);
      return new SSLSocket[] {accepted.get(10, TimeUnit.SECONDS), socket};
    }
  }

  private static void close(SSLSocket[] ends) throws java.io.IOException {
    for (SSLSocket end : ends) {
      end.close();
    }
  }
}
