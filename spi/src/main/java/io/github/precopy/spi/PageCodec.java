package io.github.precopy.spi;

/**
 * A way to encode pages in the stream, contributed by a plugin ({@link
 * MigrationOptimizationProvider#pageCodec()}) and named in the stream by the plugin's capability: a
 * destination decodes with the codec of the same capability found on its class path, and refuses a
 * stream whose codec it does not have before applying anything. On the source, the capability's
 * {@link MigrationOptimization#pageEncoder()} encodes. Thread-safe.
 */
public interface PageCodec {

  /** The most bytes {@link PageEncoder#encode} writes for one page (less than 4096). */
  int maxEncodedBytes();

  /** A decoder for one channel of a destination. */
  PageDecoder decoder();
}
