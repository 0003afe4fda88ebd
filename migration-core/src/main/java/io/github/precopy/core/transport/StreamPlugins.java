package io.github.precopy.core.transport;

import io.github.precopy.core.stream.MigrationStreamReader;
import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.PageCodec;
import io.github.precopy.spi.PageDecoder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The destination's side of the plugins: the page codecs (by capability) and frame codecs (by name)
 * that the providers on the class path contribute, found through {@link ServiceLoader}, whether or
 * not a capability is enabled here. A stream that names a codec none of them has is refused after
 * its header, before any page is applied. Immutable and thread-safe.
 */
final class StreamPlugins {

  private final Map<String, PageCodec> pageCodecs;
  private final Map<String, FrameCodec> frameCodecs;

  StreamPlugins(Iterable<MigrationOptimizationProvider> providers) {
    Map<String, PageCodec> pages = new LinkedHashMap<>();
    Map<String, FrameCodec> frames = new LinkedHashMap<>();
    for (MigrationOptimizationProvider provider : providers) {
      PageCodec codec = provider.pageCodec();
      if (codec != null) {
        pages.putIfAbsent(provider.capability(), codec);
      }
      for (FrameCodec frameCodec : provider.frameCodecs()) {
        frames.putIfAbsent(frameCodec.name(), frameCodec);
      }
    }
    pageCodecs = Map.copyOf(pages);
    frameCodecs = Map.copyOf(frames);
  }

  /**
   * The plugins on the class path of this class, found once: reading the service files of a large
   * class path for every destination cost milliseconds per migration.
   */
  static StreamPlugins onClassPath() {
    return OnClassPath.PLUGINS;
  }

  private static final class OnClassPath {
    static final StreamPlugins PLUGINS =
        new StreamPlugins(
            ServiceLoader.load(
                MigrationOptimizationProvider.class, StreamPlugins.class.getClassLoader()));
  }

  /**
   * Gives {@code reader}, whose header has been read, a decoder for each page codec and a
   * decompressor for the frame codec its header names, unless it has them already.
   *
   * @throws IOException naming the codec this destination has no plugin for
   */
  void equip(MigrationStreamReader reader) throws IOException {
    if (reader.codecsResolved()) {
      return;
    }
    List<PageDecoder> decoders = new ArrayList<>();
    for (String name : reader.pageCodecs()) {
      PageCodec codec = pageCodecs.get(name);
      if (codec == null) {
        throw missing("uses " + name, pageCodecs.keySet());
      }
      decoders.add(codec.decoder());
    }
    FrameCodec.Decompressor decompressor = null;
    if (reader.frameCodec() != null) {
      FrameCodec codec = frameCodecs.get(reader.frameCodec());
      if (codec == null) {
        throw missing("compresses with " + reader.frameCodec(), frameCodecs.keySet());
      }
      decompressor = codec.decompressor();
    }
    reader.useCodecs(decoders, decompressor);
  }

  private static IOException missing(String what, Iterable<String> available) {
    List<String> names = new ArrayList<>();
    available.forEach(names::add);
    names.sort(null);
    return new IOException(
        "the source "
            + what
            + "; this destination has no plugin for it (available: "
            + (names.isEmpty() ? "none" : String.join(", ", names))
            + ")");
  }
}
