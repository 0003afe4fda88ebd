/**
 * Internal: the parts of a migration the facade assembles. {@link
 * io.github.precopy.core.engine.RamState} (QEMU's {@code RAMState}: migration bitmaps, dirty count,
 * the free-page sink), {@link io.github.precopy.core.engine.Optimizations} and their {@link
 * io.github.precopy.core.engine.OptimizationRegistry}, the optimisations' {@link
 * io.github.precopy.core.engine.MigrationContext}, and the {@link
 * io.github.precopy.core.engine.Connection} contract that every transport fulfils. Not API: types
 * here change without notice, and code outside {@code migration-core} must not use them.
 */
package io.github.precopy.core.engine;
