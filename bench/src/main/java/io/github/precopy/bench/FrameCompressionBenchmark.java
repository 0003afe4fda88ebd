package io.github.precopy.bench;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.airlift.compress.lz4.Lz4Compressor;
import io.airlift.compress.lz4.Lz4Decompressor;
import io.airlift.compress.zstd.ZstdCompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The candidates for the frame codecs of the {@code compression} plugin (issue #13), each
 * compressing and decompressing one frame of {@value FramePages#PAGES} pages of 4 KiB (256 KiB) as
 * the plugin would: every frame on its own, with one reusable context per channel, heap arrays.
 *
 * <p>Candidates: JDK {@code Deflater}/{@code Inflater} at level 1 (QEMU's default {@code
 * multifd-zlib-level}); zstd-jni at level 1 (QEMU's default {@code multifd-zstd-level}) against
 * aircompressor's pure-Java zstd (which has one fixed level); lz4-java's fastest instance (JNI,
 * fast compressor, safe decompressor) against aircompressor's pure-Java LZ4. Contents: {@link
 * FramePages}. Scores are µs per 256 KiB frame; {@code 262144 / score} is MB/s of uncompressed
 * bytes. {@link #main} prints the compression ratio of each candidate on each content.
 *
 * <pre>{@code
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar FrameCompressionBenchmark -f 2 -wi 2 -w 1s -i 3 -r 1s
 * java -cp bench/target/benchmarks.jar io.github.precopy.bench.FrameCompressionBenchmark
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
// The live set is a few 256 KiB arrays; a small pre-touched heap starts a fork quickly.
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch"})
public class FrameCompressionBenchmark {

  @Param({"RANDOM", "TEXT", "MIXED"})
  FramePages content;

  @Param({"ZLIB_JDK", "ZSTD_JNI", "ZSTD_AIRCOMPRESSOR", "LZ4_JAVA", "LZ4_AIRCOMPRESSOR"})
  Candidate impl;

  private Codec codec;
  private byte[] frame;
  private byte[] compressed;
  private int compressedLength;
  private byte[] restored;

  @Setup
  public void setUp() {
    codec = impl.create();
    frame = content.frame();
    compressed = new byte[codec.maxCompressedLength(frame.length)];
    compressedLength = codec.compress(frame, compressed);
    restored = new byte[frame.length];
    if (codec.decompress(compressed, compressedLength, restored) != frame.length
        || !java.util.Arrays.equals(frame, restored)) {
      throw new IllegalStateException(impl + " does not round-trip " + content);
    }
  }

  @TearDown
  public void tearDown() {
    codec.close();
  }

  @Benchmark
  public int compress() {
    return codec.compress(frame, compressed);
  }

  @Benchmark
  public int decompress() {
    return codec.decompress(compressed, compressedLength, restored);
  }

  /** Prints each candidate's compressed size and ratio (original / compressed) per content. */
  public static void main(String[] args) {
    System.out.printf("%-20s %-8s %10s %8s%n", "candidate", "content", "bytes", "ratio");
    for (Candidate candidate : Candidate.values()) {
      for (FramePages content : FramePages.values()) {
        try (Codec codec = candidate.create()) {
          byte[] frame = content.frame();
          int length = codec.compress(frame, new byte[codec.maxCompressedLength(frame.length)]);
          System.out.printf(
              "%-20s %-8s %10d %8.2f%n",
              candidate, content, length, (double) frame.length / length);
        }
      }
    }
  }

  /** One channel's compressor and decompressor of one candidate. */
  interface Codec extends AutoCloseable {
    int maxCompressedLength(int length);

    /** Compresses all of {@code source} into {@code target}, returning the compressed length. */
    int compress(byte[] source, byte[] target);

    /** Decompresses {@code length} bytes of {@code source}, returning the decompressed length. */
    int decompress(byte[] source, int length, byte[] target);

    @Override
    default void close() {}
  }

  /** The libraries measured. */
  public enum Candidate {
    ZLIB_JDK {
      @Override
      Codec create() {
        Deflater deflater = new Deflater(1);
        Inflater inflater = new Inflater();
        return new Codec() {
          @Override
          public int maxCompressedLength(int length) {
            return length + (length >>> 12) + (length >>> 14) + (length >>> 25) + 13 + 6;
          }

          @Override
          public int compress(byte[] source, byte[] target) {
            deflater.reset();
            deflater.setInput(source);
            deflater.finish();
            return deflater.deflate(target);
          }

          @Override
          public int decompress(byte[] source, int length, byte[] target) {
            inflater.reset();
            inflater.setInput(source, 0, length);
            try {
              return inflater.inflate(target);
            } catch (DataFormatException e) {
              throw new IllegalStateException(e);
            }
          }

          @Override
          public void close() {
            deflater.end();
            inflater.end();
          }
        };
      }
    },
    ZSTD_JNI {
      @Override
      Codec create() {
        ZstdCompressCtx compress = new ZstdCompressCtx().setLevel(1);
        ZstdDecompressCtx decompress = new ZstdDecompressCtx();
        return new Codec() {
          @Override
          public int maxCompressedLength(int length) {
            return (int) com.github.luben.zstd.Zstd.compressBound(length);
          }

          @Override
          public int compress(byte[] source, byte[] target) {
            return compress.compressByteArray(target, 0, target.length, source, 0, source.length);
          }

          @Override
          public int decompress(byte[] source, int length, byte[] target) {
            return decompress.decompressByteArray(target, 0, target.length, source, 0, length);
          }

          @Override
          public void close() {
            compress.close();
            decompress.close();
          }
        };
      }
    },
    ZSTD_AIRCOMPRESSOR {
      @Override
      Codec create() {
        ZstdCompressor compressor = new ZstdCompressor();
        ZstdDecompressor decompressor = new ZstdDecompressor();
        return new Codec() {
          @Override
          public int maxCompressedLength(int length) {
            return compressor.maxCompressedLength(length);
          }

          @Override
          public int compress(byte[] source, byte[] target) {
            return compressor.compress(source, 0, source.length, target, 0, target.length);
          }

          @Override
          public int decompress(byte[] source, int length, byte[] target) {
            return decompressor.decompress(source, 0, length, target, 0, target.length);
          }
        };
      }
    },
    LZ4_JAVA {
      @Override
      Codec create() {
        LZ4Factory factory = LZ4Factory.fastestInstance();
        LZ4Compressor compressor = factory.fastCompressor();
        LZ4SafeDecompressor decompressor = factory.safeDecompressor();
        return new Codec() {
          @Override
          public int maxCompressedLength(int length) {
            return compressor.maxCompressedLength(length);
          }

          @Override
          public int compress(byte[] source, byte[] target) {
            return compressor.compress(source, 0, source.length, target, 0, target.length);
          }

          @Override
          public int decompress(byte[] source, int length, byte[] target) {
            return decompressor.decompress(source, 0, length, target, 0, target.length);
          }
        };
      }
    },
    LZ4_AIRCOMPRESSOR {
      @Override
      Codec create() {
        Lz4Compressor compressor = new Lz4Compressor();
        Lz4Decompressor decompressor = new Lz4Decompressor();
        return new Codec() {
          @Override
          public int maxCompressedLength(int length) {
            return compressor.maxCompressedLength(length);
          }

          @Override
          public int compress(byte[] source, byte[] target) {
            return compressor.compress(source, 0, source.length, target, 0, target.length);
          }

          @Override
          public int decompress(byte[] source, int length, byte[] target) {
            return decompressor.decompress(source, 0, length, target, 0, target.length);
          }
        };
      }
    };

    abstract Codec create();
  }
}
