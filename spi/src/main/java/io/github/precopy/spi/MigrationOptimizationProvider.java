package io.github.precopy.spi;

import java.util.List;
import java.util.Map;

/**
 * The {@link java.util.ServiceLoader} service through which a plugin offers one optimisation under
 * a capability name.
 *
 * <p>Implementations need a public no-argument constructor that does nothing expensive: the engine
 * instantiates every provider it finds to read its capability, but calls {@link
 * #create(OptimizationContext)} only for migrations that enable that capability. Register the class
 * in {@code META-INF/services/io.github.precopy.spi.MigrationOptimizationProvider}.
 */
public interface MigrationOptimizationProvider {

  /**
   * The capability name that enables this optimisation, e.g. {@code free-page-hint}: lower-case
   * ASCII letters, digits and dashes, unique among the providers on the class path.
   */
  String capability();

  /**
   * Checks the options this capability reads among a migration's options, before anything starts;
   * options it does not know are someone else's and ignored. The default accepts everything.
   *
   * @throws IllegalArgumentException naming the option whose value is invalid
   */
  default void validate(Map<String, String> options) {}

  /**
   * Creates the optimisation for one migration. Called at most once per migration, on the thread
   * that starts the migration, before the migration thread runs (so before any phase); its phases
   * then arrive on the migration thread.
   *
   * @param context what the optimisation may see and touch of this migration
   * @return a new optimisation, notified of every phase of this migration
   */
  MigrationOptimization create(OptimizationContext context);

  /**
   * The page codec this capability contributes, or null (the default): a migration that enables the
   * capability encodes the pages it sends again with it, and the stream names it by this
   * capability. A destination asks every provider on its class path for the codecs the stream
   * names, whether or not a capability is enabled there.
   */
  default PageCodec pageCodec() {
    return null;
  }

  /**
   * The frame codecs this plugin contributes (none by default), each selected by name through the
   * parameter {@code multifd-compression}, whether or not this capability is enabled. A migration
   * that enables this capability and does not give {@code multifd-compression} compresses with the
   * first.
   */
  default List<FrameCodec> frameCodecs() {
    return List.of();
  }
}
