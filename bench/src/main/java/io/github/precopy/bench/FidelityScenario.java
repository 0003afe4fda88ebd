package io.github.precopy.bench;

import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.Workloads;
import java.util.Optional;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A guest scenario of {@link GuestFidelity}: {@code label=workload:options}, e.g. {@code
 * idle-fresh=idle:profile=fresh}, the options as {@link WorkloadOptions#parse} reads them (comma
 * separated; none without the colon). The label names the reference rows it is compared with
 * ({@link FidelityReference.Guest#forLabel}).
 */
record FidelityScenario(String label, String workload, WorkloadOptions options) {

  /**
   * The default scenarios, separated by {@code ;}: the reference's three guests, the seed's two (a
   * guest that has run lightly: 15 % of its free memory holds old data, the share at which an 8 GiB
   * sweep put both published reductions within the series' spread; bench/RESULTS.md §11) and the
   * reference's {@code init_on_alloc=1} guests.
   */
  static final String DEFAULTS =
      "idle-fresh=idle:profile=fresh;used=idle:profile=used;busy=busy:profile=fresh;"
          + "seed-idle=idle:profile=used,touched=15%;seed-compile=busy:profile=used,touched=15%;"
          + "zeroing-idle=idle:profile=fresh,init-on-alloc=on;"
          + "zeroing-used=idle:profile=used,init-on-alloc=on";

  /**
   * Reads {@code label=workload[:options]}.
   *
   * @throws IllegalArgumentException naming the entry and what is wrong with it
   */
  static FidelityScenario parse(String entry) {
    String text = entry.strip();
    int equals = text.indexOf('=');
    if (equals <= 0) {
      throw new IllegalArgumentException(
          "scenario '"
              + text
              + "' is not label=workload[:options], e.g. idle-fresh=idle:touched=10%");
    }
    String label = text.substring(0, equals).strip();
    String rest = text.substring(equals + 1);
    int colon = rest.indexOf(':');
    String workload = (colon < 0 ? rest : rest.substring(0, colon)).strip();
    if (workload.isEmpty()) {
      throw new IllegalArgumentException("scenario '" + label + "' names no workload");
    }
    try {
      WorkloadOptions options =
          colon < 0 ? WorkloadOptions.defaults() : WorkloadOptions.parse(rest.substring(colon + 1));
      return new FidelityScenario(label, workload, options);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("scenario '" + label + "': " + e.getMessage());
    }
  }

  /**
   * Checks that the workload exists and takes these options, by creating it once.
   *
   * @throws IllegalArgumentException naming the scenario, and the workload or option
   */
  void validate() {
    try {
      Workloads.create(workload, options);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("scenario '" + label + "': " + e.getMessage());
    }
  }

  /** The reference guest its label names, if any. */
  Optional<FidelityReference.Guest> reference() {
    return FidelityReference.Guest.forLabel(label);
  }

  /** E.g. {@code idle-fresh (idle: profile=fresh)}. */
  @Override
  public String toString() {
    return label + " (" + workload + (options.values().isEmpty() ? "" : ": " + options) + ")";
  }

  /** The picocli converter of one entry. */
  static final class Converter implements ITypeConverter<FidelityScenario> {
    @Override
    public FidelityScenario convert(String text) {
      try {
        return parse(text);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
