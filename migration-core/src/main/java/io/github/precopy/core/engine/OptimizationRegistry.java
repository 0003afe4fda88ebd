package io.github.precopy.core.engine;

import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.MigrationOptimizationProvider;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The optimisation providers an engine knows, by capability name. Providers are only asked for
 * their name here; {@link MigrationOptimizationProvider#create} runs only for migrations that
 * enable the capability. Immutable and thread-safe.
 */
public final class OptimizationRegistry {

  private static final System.Logger LOG = System.getLogger(OptimizationRegistry.class.getName());

  /** The parameter that selects a frame codec, QEMU's name. */
  public static final String MULTIFD_COMPRESSION = "multifd-compression";

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  private final SortedMap<String, MigrationOptimizationProvider> byCapability;

  /** The providers' frame codecs by name; the first provider (by capability) to name one wins. */
  private final SortedMap<String, FrameCodec> frameCodecs = new TreeMap<>();

  public OptimizationRegistry(Collection<MigrationOptimizationProvider> providers) {
    SortedMap<String, MigrationOptimizationProvider> map = new TreeMap<>();
    for (MigrationOptimizationProvider provider : providers) {
      String name = provider.capability();
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalStateException(
            "provider "
                + provider.getClass().getName()
                + " has an invalid capability name '"
                + name
                + "' (lower-case letters, digits and dashes, at most 63)");
      }
      MigrationOptimizationProvider previous = map.putIfAbsent(name, provider);
      if (previous != null && previous.getClass() != provider.getClass()) {
        throw new IllegalStateException(
            "capability '"
                + name
                + "' is offered by both "
                + previous.getClass().getName()
                + " and "
                + provider.getClass().getName());
      }
      if (previous == null) {
        LOG.log(Level.INFO, "found capability {0} ({1})", name, provider.getClass().getName());
      }
    }
    this.byCapability = Collections.unmodifiableSortedMap(map);
    for (MigrationOptimizationProvider provider : byCapability.values()) {
      provider.frameCodecs().forEach(codec -> frameCodecs.putIfAbsent(codec.name(), codec));
    }
  }

  /** The capability names available, sorted. */
  public Set<String> capabilities() {
    return Collections.unmodifiableSet(byCapability.keySet());
  }

  /**
   * Checks that every enabled capability has a provider.
   *
   * @throws IllegalArgumentException naming the unknown capabilities and the available ones
   */
  public void checkAvailable(Set<String> enabled) {
    List<String> unknown = new ArrayList<>();
    for (String name : enabled) {
      if (!byCapability.containsKey(name)) {
        unknown.add(name);
      }
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown capability "
              + String.join(", ", unknown)
              + "; available: "
              + (byCapability.isEmpty() ? "none" : String.join(", ", byCapability.keySet())));
    }
  }

  /**
   * Checks that every enabled capability has a provider and that each accepts the options.
   *
   * @throws IllegalArgumentException naming the unknown capabilities and the available ones, or a
   *     capability and what is wrong with its options
   */
  public void check(Set<String> enabled, Map<String, String> options) {
    checkAvailable(enabled);
    List<String> encoding = new ArrayList<>();
    for (String name : enabled) {
      try {
        byCapability.get(name).validate(options);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
      }
      if (byCapability.get(name).pageCodec() != null) {
        encoding.add(name);
      }
    }
    if (encoding.size() > 1) {
      throw new IllegalArgumentException(
          "capabilities "
              + String.join(" and ", encoding)
              + " both encode pages; a migration enables at most one of them");
    }
    FrameCodec codec = frameCodec(enabled, options);
    if (codec != null) {
      try {
        codec.compressor(options);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            MULTIFD_COMPRESSION + " " + codec.name() + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * The frame codec of a migration: the one the parameter {@code multifd-compression} names among
   * the plugins' frame codecs; without the parameter, the first frame codec of the first enabled
   * capability (in name order) that has one; null for {@code none}, or when neither applies.
   *
   * @throws IllegalArgumentException if no plugin offers a codec of that name
   */
  public FrameCodec frameCodec(Set<String> enabled, Map<String, String> options) {
    String name = options.get(MULTIFD_COMPRESSION);
    if (name == null) {
      for (String capability : new TreeSet<>(enabled)) {
        MigrationOptimizationProvider provider = byCapability.get(capability);
        if (provider != null && !provider.frameCodecs().isEmpty()) {
          return provider.frameCodecs().get(0);
        }
      }
      return null;
    }
    if (name.equals("none")) {
      return null;
    }
    FrameCodec codec = frameCodecs.get(name);
    if (codec == null) {
      throw new IllegalArgumentException(
          MULTIFD_COMPRESSION
              + " '"
              + name
              + "' is not a codec of the plugins here; available: none"
              + (frameCodecs.isEmpty() ? "" : ", " + String.join(", ", frameCodecs.keySet())));
    }
    return codec;
  }

  /** The providers of the enabled capabilities, by name. */
  public Map<String, MigrationOptimizationProvider> providersFor(Set<String> enabled) {
    checkAvailable(enabled);
    Map<String, MigrationOptimizationProvider> chosen = new TreeMap<>();
    for (String name : enabled) {
      LOG.log(Level.INFO, "enabling capability {0}", name);
      chosen.put(name, byCapability.get(name));
    }
    return chosen;
  }
}
