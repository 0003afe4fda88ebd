/**
 * Runnable examples of the precopy API, each a class with a {@code main}: {@link
 * io.github.precopy.examples.PlainPrecopyExample} (plain precopy of a simulated guest), {@link
 * io.github.precopy.examples.FreePageHintExample} (capability {@code free-page-hint}), {@link
 * io.github.precopy.examples.CustomOptimizationExample} (an optimisation plugin of one's own) and
 * {@link io.github.precopy.examples.OwnMemoryExample} (migrating memory an application fills and
 * writes itself). The command line is in {@link io.github.precopy.examples.cli}.
 */
package io.github.precopy.examples;
