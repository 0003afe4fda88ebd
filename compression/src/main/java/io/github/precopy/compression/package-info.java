/**
 * QEMU's multifd compression as a plugin: the {@link io.github.precopy.spi.FrameCodec}s {@code
 * zlib}, {@code zstd} and {@code lz4}, offered by {@link
 * io.github.precopy.compression.CompressionProvider} and selected by the parameter {@code
 * multifd-compression}.
 *
 * <p><b>Frames, not streams.</b> QEMU keeps one zlib or zstd stream per channel across packets and
 * flushes it at the end of each packet ({@code Z_SYNC_FLUSH}, {@code ZSTD_e_flush}), so a packet
 * can refer to the data of earlier ones. Here every frame is compressed on its own, with a context
 * that is reset and reused: a frame decodes without its predecessors, a damaged or refused frame
 * does not poison the channel, and the decompressor needs no state beyond the frame. It costs a
 * little ratio on small frames, nothing on the 64-page stripes the engine sends.
 *
 * <p><b>Frame bodies.</b> {@code zlib}: one zlib stream (RFC 1950) and nothing after it. {@code
 * zstd}: one zstd frame (RFC 8878) carrying its content size, nothing after it. {@code lz4}: the
 * original length as a big-endian 32-bit int, then one raw LZ4 block. QEMU has no {@code lz4}
 * multifd method (its methods are zlib, zstd and hardware offloads); the name follows the same
 * pattern. The levels are QEMU's: {@code multifd-zlib-level} 0 to 9 and {@code multifd-zstd-level}
 * 0 to 20, both defaulting to 1; lz4 has none.
 *
 * <p><b>Hostile input.</b> Decompressors write only between the target's position and limit, size
 * no allocation by a length read from the input, and refuse with an {@link
 * IllegalArgumentException} ("zstd frame does not decompress: ...") a frame that is truncated,
 * corrupt, followed by other bytes, or larger than the target's remaining bytes.
 *
 * <p><b>Libraries</b>, chosen by {@code FrameCompressionBenchmark} in {@code bench} (64-page frames
 * of random, English-like and mixed pages; {@code bench/RESULTS.md} §7):
 *
 * <ul>
 *   <li>{@code zlib}: the JDK's {@link java.util.zip.Deflater}, QEMU's format and no dependency.
 *       The slowest by far (about 130 MB/s compressing at level 1), kept for QEMU parity.
 *   <li>{@code zstd}: zstd-jni (JNI to the reference library) rather than aircompressor's pure Java
 *       zstd: at the same ratio (2.42 against 2.48 on the mixed frame) it compresses 5.3 times as
 *       fast (1083 against 206 MB/s), decompresses 1.7 times as fast, honours the level parameter
 *       (aircompressor has one fixed level), and checks frames in the reference C code.
 *       aircompressor uses {@code sun.misc.Unsafe}, which JDK 24+ warns about and will remove.
 *   <li>{@code lz4}: lz4-java from the maintained {@code at.yawk.lz4} fork (JNI, fast compressor,
 *       safe decompressor) rather than aircompressor's LZ4: same ratio (2.14), 1.7 times the speed
 *       both ways on the mixed frame.
 * </ul>
 *
 * <p>Both native libraries load when a codec first creates a compressor or decompressor, not when
 * the provider is instantiated. On JDK 24 and later, loading them prints JEP 472's warning about
 * {@code System::loadLibrary} unless the JVM runs with {@code --enable-native-access=ALL-UNNAMED};
 * they run unchanged on JDK 17 and 25.
 */
package io.github.precopy.compression;
