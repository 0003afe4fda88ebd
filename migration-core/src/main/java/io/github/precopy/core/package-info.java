/**
 * The precopy engine's facade: {@link io.github.precopy.core.MigrationEngine} starts a {@link
 * io.github.precopy.core.PrecopyMigration} of a {@link io.github.precopy.core.memory.Guest} to a
 * {@link io.github.precopy.core.transport.MigrationTarget} with a {@link
 * io.github.precopy.core.MigrationConfig}, and reports {@link
 * io.github.precopy.core.MigrationStats} under QEMU's {@code query-migrate} names.
 *
 * <p>The engine's packages, top to bottom: this facade; {@code core.transport} (where a migration
 * goes, and the destination); {@code core.engine} (internal: the RAM state, the optimisations of a
 * migration, the connection contract); {@code core.stream} (internal: the wire format); {@code
 * core.memory} (guest RAM and its dirty log). A package uses only those below it, and nothing
 * outside this module uses the internal ones; an ArchUnit test holds both rules.
 */
package io.github.precopy.core;
