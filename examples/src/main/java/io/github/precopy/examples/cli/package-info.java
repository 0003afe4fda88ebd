/**
 * The {@code precopy} command line ({@link io.github.precopy.examples.cli.Precopy}, the main class
 * of {@code examples/target/precopy.jar}): {@code migrate} boots a simulated guest and migrates it
 * in process or over TCP, once or side by side per capability, as text, QEMU-named JSON and a PNG
 * chart; {@code incoming} receives a migration over TCP.
 */
package io.github.precopy.examples.cli;
