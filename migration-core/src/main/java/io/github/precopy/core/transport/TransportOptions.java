package io.github.precopy.core.transport;

import io.github.precopy.core.stream.StreamFormat;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * How a migration travels between two processes: the number of channels (TCP connections the pages
 * are split across, as QEMU's multifd), the timeouts, and mutual TLS. Both ends must agree on the
 * channels and on TLS. Immutable and thread-safe.
 */
public final class TransportOptions {

  /** Most channels one migration may use. */
  public static final int MAX_CHANNELS = StreamFormat.MAX_CHANNELS;

  private final int channels;
  private final Duration connectTimeout;
  private final Duration ioTimeout;
  private final SSLContext tls;

  private TransportOptions(Builder builder) {
    this.channels = builder.channels;
    this.connectTimeout = builder.connectTimeout;
    this.ioTimeout = builder.ioTimeout;
    this.tls = builder.tls;
  }

  /** One channel, plain TCP, 10 s to connect, 60 s for any wait on the peer. */
  public static TransportOptions defaults() {
    return builder().build();
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** TCP connections per migration, 1 to 64. */
  public int channels() {
    return channels;
  }

  /** How long a source tries to connect each channel. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * The longest wait on the peer: a destination that takes no data, a source that sends none, a TLS
   * handshake, the destination's reply, and (destination side) the wait for the source to connect
   * and for each frame to arrive whole from its first byte.
   */
  public Duration ioTimeout() {
    return ioTimeout;
  }

  /** The TLS context for mutual TLS 1.3, or null for plain TCP. */
  public SSLContext tls() {
    return tls;
  }

  /** Builds {@link TransportOptions}. Not thread-safe. */
  public static final class Builder {
    private int channels = 1;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration ioTimeout = Duration.ofSeconds(60);
    private SSLContext tls;

    private Builder() {}

    /**
     * TCP connections per migration.
     *
     * @throws IllegalArgumentException if not 1 to 64
     */
    public Builder channels(int channels) {
      if (channels < 1 || channels > MAX_CHANNELS) {
        throw new IllegalArgumentException(
            "channels " + channels + " out of range [1, " + MAX_CHANNELS + "]");
      }
      this.channels = channels;
      return this;
    }

    /**
     * How long to try to connect each channel.
     *
     * @throws IllegalArgumentException if not positive or over 24 days
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = checkTimeout(timeout, "connect timeout");
      return this;
    }

    /**
     * The longest wait on the peer.
     *
     * @throws IllegalArgumentException if not positive or over 24 days
     */
    public Builder ioTimeout(Duration timeout) {
      this.ioTimeout = checkTimeout(timeout, "I/O timeout");
      return this;
    }

    /** Mutual TLS 1.3 with this context (see {@link Tls#pkcs12}); null for plain TCP. */
    public Builder tls(SSLContext tls) {
      this.tls = tls;
      return this;
    }

    public TransportOptions build() {
      return new TransportOptions(this);
    }

    private static Duration checkTimeout(Duration timeout, String what) {
      Objects.requireNonNull(timeout, what);
      if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            what + " " + timeout + " is not between 1 ms and " + Integer.MAX_VALUE + " ms");
      }
      return timeout;
    }
  }
}
