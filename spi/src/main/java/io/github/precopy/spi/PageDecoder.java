package io.github.precopy.spi;

import java.nio.ByteBuffer;

/**
 * Applies what a {@link PageEncoder} produced, on the destination: the page's new contents from its
 * encoding and the contents the destination holds now. Stateless or confined to one channel: the
 * destination uses one decoder per channel, each on its own thread.
 *
 * <p>The encoding comes from the network or a file, so it is untrusted: a malformed one is refused
 * with an exception, never read or written past its bounds.
 */
public interface PageDecoder {

  /**
   * Rewrites {@code page[offset]} to {@code page[offset + 4095]}, the page as the destination holds
   * it, into the page the source sent, from {@code encoded}'s remaining bytes.
   *
   * @throws IllegalArgumentException if the encoding is malformed or does not fit a page
   */
  void decode(ByteBuffer encoded, byte[] page, int offset);
}
