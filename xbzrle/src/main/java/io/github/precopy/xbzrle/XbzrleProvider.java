package io.github.precopy.xbzrle;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PageCodec;
import io.github.precopy.spi.PageDecoder;
import java.util.Map;

/**
 * The {@code xbzrle} capability: QEMU's XBZRLE, which sends a page that is sent again as the delta
 * from the copy sent before, in QEMU's byte format (an XOR-based zero run length encoding, {@code
 * docs/xbzrle.txt}), and the page whole when that copy is not in the source's page cache or the
 * delta would not be smaller than {@value XbzrleEncoding#MAX_ENCODED_BYTES} bytes.
 *
 * <p>Parameter, among the migration's options, with QEMU's name: {@code xbzrle-cache-size}, the
 * cache's size in bytes with an optional binary suffix k, m, g or t: a power of two from 4096 to
 * 1g, default 64m (QEMU's). Each migration allocates its cache when it first encodes a page and
 * frees it when it ends. Statistics as QEMU's {@code query-migrate} {@code xbzrle-cache}.
 *
 * <p>Found by {@link java.util.ServiceLoader}; stateless and thread-safe, and so is its {@link
 * #pageCodec() codec}, whose decoder is stateless.
 */
public final class XbzrleProvider implements MigrationOptimizationProvider {

  /** The capability name. */
  public static final String CAPABILITY = "xbzrle";

  private static final PageCodec CODEC =
      new PageCodec() {
        @Override
        public int maxEncodedBytes() {
          return XbzrleEncoding.MAX_ENCODED_BYTES;
        }

        @Override
        public PageDecoder decoder() {
          return XbzrleEncoding::decode;
        }
      };

  /** For {@link java.util.ServiceLoader}. */
  public XbzrleProvider() {}

  @Override
  public String capability() {
    return CAPABILITY;
  }

  /** Checks {@code xbzrle-cache-size} among {@code options}. */
  @Override
  public void validate(Map<String, String> options) {
    XbzrleParameters.from(options);
  }

  @Override
  public MigrationOptimization create(OptimizationContext context) {
    return new Xbzrle(context, XbzrleParameters.from(context.options()));
  }

  /**
   * QEMU's XBZRLE format: encodings of at most {@value XbzrleEncoding#MAX_ENCODED_BYTES} bytes; the
   * decoder rewrites the destination's page in place and refuses a malformed encoding, leaving the
   * page untouched.
   */
  @Override
  public PageCodec pageCodec() {
    return CODEC;
  }
}
