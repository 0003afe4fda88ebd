package io.github.precopy.core.transport;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Mutual TLS for migrations, with the JDK's TLS: each end presents the certificate of its PKCS12
 * key store and accepts only peers whose certificate chains to its PKCS12 trust store. Only TLS 1.3
 * is enabled. The README shows how to make test certificates with {@code keytool}.
 *
 * <p>Both ends prefer {@value #PREFERRED_CIPHER_SUITE}, and the destination (the TLS server)
 * chooses by its own order, so two precopy ends negotiate it. The JDK's default order puts {@code
 * TLS_AES_256_GCM_SHA384} first; AES-128 does 10 rounds per block where AES-256 does 14, with the
 * same GHASH, and on both JDKs measured it is the fastest of the three TLS 1.3 suites the JDK
 * offers (the bench's {@code TlsCipherSuiteBenchmark}, on heap buffers through an {@code SSLEngine}
 * pair, 1 MiB frames, one core of a 2-core AMD EPYC with AES-NI, PCLMULQDQ and AVX2 but no
 * AVX-512): on JDK 17, encryption 2.23 GB/s against 1.95 for AES-256 and 0.21 for ChaCha20,
 * decryption 2.30 against 1.95 and 0.18; on JDK 25, encryption 2.84 GB/s against 2.66 and 0.33,
 * decryption 2.25 against 2.02 and 0.35. ChaCha20-Poly1305 is meant for CPUs without AES
 * instructions, which a migration host has. Both AES-GCM suites are 128-bit secure or better; the
 * other two suites stay enabled, after it, for a peer that does not offer it.
 */
public final class Tls {

  private static final String PROTOCOL = "TLSv1.3";

  /** The TLS 1.3 cipher suite that both ends put first: the fastest of the JDK's, see above. */
  public static final String PREFERRED_CIPHER_SUITE = "TLS_AES_128_GCM_SHA256";

  private Tls() {}

  /**
   * A TLS context from a PKCS12 key store (this end's key and certificate) and a PKCS12 trust store
   * (the certificates or CA this end trusts).
   *
   * @throws IllegalArgumentException if a store is missing, unreadable, not PKCS12, the password is
   *     wrong, the key store holds no key or the trust store no certificate; the message says which
   */
  public static SSLContext pkcs12(
      Path keyStore, char[] keyStorePassword, Path trustStore, char[] trustStorePassword) {
    KeyStore keys = load(keyStore, keyStorePassword, "key store");
    KeyStore trusted = load(trustStore, trustStorePassword, "trust store");
    try {
      if (!hasEntry(keys, true)) {
        throw new IllegalArgumentException("key store " + keyStore + " holds no private key");
      }
      if (!hasEntry(trusted, false)) {
        throw new IllegalArgumentException("trust store " + trustStore + " holds no certificate");
      }
      KeyManagerFactory keyManagers =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, keyStorePassword);
      TrustManagerFactory trustManagers =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trusted);
      SSLContext context = SSLContext.getInstance(PROTOCOL);
      context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /**
   * Applies the settings both ends use: TLS 1.3 only; {@link #PREFERRED_CIPHER_SUITE} first among
   * the enabled suites, the server choosing by its own order; the server requires a client
   * certificate.
   */
  static void configure(SSLSocket socket, boolean server) {
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setProtocols(new String[] {PROTOCOL});
    parameters.setCipherSuites(preferred(parameters.getCipherSuites()));
    parameters.setUseCipherSuitesOrder(true);
    if (server) {
      parameters.setNeedClientAuth(true);
    }
    socket.setSSLParameters(parameters);
    socket.setUseClientMode(!server);
  }

  /**
   * {@code enabled} with {@link #PREFERRED_CIPHER_SUITE} moved to the front, if it is among them (a
   * provider or a {@code jdk.tls.disabledAlgorithms} setting may have left it out).
   */
  static String[] preferred(String[] enabled) {
    List<String> suites = new ArrayList<>(List.of(enabled));
    if (suites.remove(PREFERRED_CIPHER_SUITE)) {
      suites.add(0, PREFERRED_CIPHER_SUITE);
    }
    return suites.toArray(String[]::new);
  }

  private static KeyStore load(Path path, char[] password, String what) {
    try (InputStream in = Files.newInputStream(path)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      return store;
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(what + " " + path + " does not exist", e);
    } catch (IOException e) {
      String reason =
          e.getCause() instanceof java.security.UnrecoverableKeyException
              ? "wrong password"
              : notPkcs12(path, e);
      throw new IllegalArgumentException(
          "cannot read " + what + " " + path + " as PKCS12: " + reason, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read " + what + " " + path + " as PKCS12: " + notPkcs12(path, e), e);
    }
  }

  /**
   * Why a file that exists is not a PKCS12 store, in the user's terms rather than the DER parser's:
   * most often it is a certificate (DER, as {@code keytool -exportcert} writes it, or PEM).
   */
  private static String notPkcs12(Path path, Exception failure) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      return failure.getMessage();
    }
    try {
      CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(bytes));
      return "it holds an X.509 certificate, not a PKCS12 store";
    } catch (CertificateException notACertificate) {
      // Something else, then.
    }
    String text = new String(bytes, 0, Math.min(bytes.length, 64), StandardCharsets.US_ASCII);
    if (text.startsWith("-----BEGIN ")) {
      int end = text.indexOf("-----", 11);
      return "it is PEM text ("
          + (end > 0 ? text.substring(11, end) : "unknown")
          + "), not a PKCS12 store";
    }
    return "it is not PKCS12, or it is damaged";
  }

  private static boolean hasEntry(KeyStore store, boolean key) throws GeneralSecurityException {
    Enumeration<String> aliases = store.aliases();
    while (aliases.hasMoreElements()) {
      String alias = aliases.nextElement();
      if (key
          ? store.isKeyEntry(alias)
          : store.isCertificateEntry(alias) || store.isKeyEntry(alias)) {
        return true;
      }
    }
    return false;
  }
}
