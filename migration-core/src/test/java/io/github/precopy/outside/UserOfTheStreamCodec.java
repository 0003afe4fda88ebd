package io.github.precopy.outside;

import io.github.precopy.core.stream.StreamFormat;

/** A violation for the architecture test: code of another module using the internal codec. */
public final class UserOfTheStreamCodec {

  private UserOfTheStreamCodec() {}

  static int channelOfFirstPage(int channels) {
    return StreamFormat.channelOf(0, 0, channels);
  }
}
