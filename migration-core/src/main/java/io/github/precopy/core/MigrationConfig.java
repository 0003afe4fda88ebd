package io.github.precopy.core;

import io.github.precopy.core.memory.DirtyTracking;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.spi.ConvergencePolicy;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one migration does: which capabilities it enables (QEMU's {@code migrate-set-capabilities})
 * and its parameters ({@code migrate-set-parameters}). Immutable; build with {@link #builder()}.
 *
 * <p>Defaults: no capability, unlimited bandwidth, a 300 ms downtime limit (QEMU's default), the
 * engine's convergence policy (QEMU's rule unless the engine binds another), verification on, the
 * software dirty log.
 */
public final class MigrationConfig {

  /** Unlimited bandwidth, the default. */
  public static final long UNLIMITED = Long.MAX_VALUE;

  /**
   * The lowest bandwidth limit, in bytes per second: one page in each 100 ms window of the rate
   * limiter. Pages are sent whole, so a lower limit could not be kept.
   */
  public static final long MIN_BANDWIDTH = GuestMemory.PAGE_SIZE * 10L;

  private final Set<String> capabilities;
  private final long maxBandwidthBytesPerSecond;
  private final Duration downtimeLimit;
  private final ConvergencePolicy convergencePolicy;
  private final Map<String, String> options;
  private final boolean verify;
  private final String dirtyTracking;

  private MigrationConfig(Builder builder) {
    this.capabilities = Collections.unmodifiableSortedSet(new TreeSet<>(builder.capabilities));
    this.maxBandwidthBytesPerSecond = builder.maxBandwidthBytesPerSecond;
    this.downtimeLimit = builder.downtimeLimit;
    this.convergencePolicy = builder.convergencePolicy;
    this.options = Collections.unmodifiableMap(new TreeMap<>(builder.options));
    this.verify = builder.verify;
    this.dirtyTracking = builder.dirtyTracking;
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The default configuration: plain precopy. */
  public static MigrationConfig defaults() {
    return builder().build();
  }

  /** The enabled capability names, e.g. {@code free-page-hint}, sorted. */
  public Set<String> capabilities() {
    return capabilities;
  }

  /** Bandwidth limit in bytes per second while the guest runs; {@link #UNLIMITED} for none. */
  public long maxBandwidthBytesPerSecond() {
    return maxBandwidthBytesPerSecond;
  }

  /** The longest the guest may stay paused for the final copy, as the convergence rule sees it. */
  public Duration downtimeLimit() {
    return downtimeLimit;
  }

  /**
   * Decides after each sync whether to continue, switch over or give up; empty for the engine's
   * default ({@link EngineModule}).
   */
  public Optional<ConvergencePolicy> convergencePolicy() {
    return Optional.ofNullable(convergencePolicy);
  }

  /** Free-form options passed to optimisations, by name, sorted. */
  public Map<String, String> options() {
    return options;
  }

  /**
   * Whether to verify, after completion, every page the guest had in use at switch-over: byte for
   * byte against an in-process destination, through the digest the stream carries for any other
   * (the destination checks it; over TCP it replies with the outcome).
   */
  public boolean verify() {
    return verify;
  }

  /** How the migration learns which pages the guest wrote: a {@link DirtyTracking} name. */
  public String dirtyTracking() {
    return dirtyTracking;
  }

  @Override
  public String toString() {
    return "MigrationConfig[capabilities="
        + capabilities
        + ", maxBandwidth="
        + (maxBandwidthBytesPerSecond == UNLIMITED ? "unlimited" : maxBandwidthBytesPerSecond)
        + ", downtimeLimit="
        + downtimeLimit.toMillis()
        + "ms, dirtyTracking="
        + dirtyTracking
        + "]";
  }

  /** Builds a {@link MigrationConfig}. Not thread-safe. */
  public static final class Builder {
    private final Set<String> capabilities = new LinkedHashSet<>();
    private long maxBandwidthBytesPerSecond = UNLIMITED;
    private Duration downtimeLimit = Duration.ofMillis(300);
    private ConvergencePolicy convergencePolicy;
    private final Map<String, String> options = new TreeMap<>();
    private boolean verify = true;
    private String dirtyTracking = DirtyTracking.SOFTWARE;

    private Builder() {}

    /** Enables a capability by name. */
    public Builder capability(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("capability name must not be empty");
      }
      capabilities.add(name);
      return this;
    }

    /** Enables several capabilities. */
    public Builder capabilities(Iterable<String> names) {
      names.forEach(this::capability);
      return this;
    }

    /**
     * Limits the bandwidth while the guest runs, in bytes per second: at least {@link
     * #MIN_BANDWIDTH}, one page per 100 ms rate-limit window.
     */
    public Builder maxBandwidth(long bytesPerSecond) {
      if (bytesPerSecond <= 0) {
        throw new IllegalArgumentException(
            "max-bandwidth must be positive, got " + bytesPerSecond + " bytes/s");
      }
      if (bytesPerSecond < MIN_BANDWIDTH) {
        throw new IllegalArgumentException(
            "max-bandwidth must be at least "
                + MIN_BANDWIDTH
                + " bytes/s (one "
                + GuestMemory.PAGE_SIZE
                + "-byte page per 100 ms window), got "
                + bytesPerSecond
                + " bytes/s");
      }
      this.maxBandwidthBytesPerSecond = bytesPerSecond;
      return this;
    }

    /** Sets the downtime limit (> 0, at most 2000 s as in QEMU). */
    public Builder downtimeLimit(Duration limit) {
      Objects.requireNonNull(limit, "limit");
      if (limit.isNegative() || limit.isZero() || limit.compareTo(Duration.ofSeconds(2000)) > 0) {
        throw new IllegalArgumentException(
            "downtime-limit must be in (0, 2000 s], got " + limit.toMillis() + " ms");
      }
      this.downtimeLimit = limit;
      return this;
    }

    /** Sets the convergence policy. */
    public Builder convergencePolicy(ConvergencePolicy policy) {
      this.convergencePolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Adds an option for optimisations. */
    public Builder option(String name, String value) {
      options.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Turns verification on or off. */
    public Builder verify(boolean verify) {
      this.verify = verify;
      return this;
    }

    /**
     * Chooses how the migration learns which pages the guest wrote: {@value DirtyTracking#SOFTWARE}
     * (the default) or {@value DirtyTracking#KERNEL}, see {@link DirtyTracking}. Whether it works
     * here is checked when the migration starts.
     */
    public Builder dirtyTracking(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("dirty tracking name must not be empty");
      }
      this.dirtyTracking = name;
      return this;
    }

    /** The configuration. */
    public MigrationConfig build() {
      return new MigrationConfig(this);
    }
  }
}
