/**
 * Test doubles for plugin authors, so that an optimisation is tested without the engine: {@link
 * io.github.precopy.spi.testing.FakeOptimizationContext}, {@link
 * io.github.precopy.spi.testing.RecordingFreePageSink} and a bounded {@link
 * io.github.precopy.spi.testing.Await}. Depends on the SPI alone.
 */
package io.github.precopy.spi.testing;
