package io.github.precopy.core.transport;

import static io.github.precopy.core.testing.StreamBytes.headerFields;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.stream.StreamFormat;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestCodecsProvider;
import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.PageEncoder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Streams that use codecs: ENCODED records of a page codec and frames compressed by a frame codec
 * (the test plugins of {@link TestCodecsProvider}), written by {@link MigrationStreamWriter} and
 * read by {@link Destination}. They load byte for byte; a destination without the plugins refuses
 * them before applying anything; hostile codec lists, encodings and compressed frames are rejected;
 * and no single corrupted byte or truncation of an encoded, compressed stream gets past the
 * destination. Random content comes from a printed seed ({@code -Dprecopy.seed=S}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class CodecStreamTest {

  private static final Map<String, String> OPTIONS = Map.of();
  private final long seed = TestMemories.seed("CodecStreamTest");
  private SplittableRandom random = new SplittableRandom(seed);
  private final TestCodecsProvider plugins = new TestCodecsProvider();
  private GuestMemory source;

  @BeforeEach
  void setUp() {
    source =
        GuestMemory.builder()
            .anonymousBlock("pc.ram", 0x100000, 40 * 4096)
            .anonymousBlock("vga.vram", 0x10000000, 8 * 4096)
            .build();
  }

  @AfterEach
  void tearDown() {
    source.close();
  }

  /**
   * A stream of one channel, the same for a seed whatever came before: every page once (whole or
   * ZERO), then a few bytes of some pages changed and those pages sent again through the test page
   * encoder (ENCODED, or whole when it declines), then the digest of every page.
   */
  private byte[] encodedStream(FrameCodec frameCodec, int bufferBytes) throws IOException {
    RamBlock ram = source.blocks().get(0);
    RamBlock vram = source.blocks().get(1);
    random = new SplittableRandom(seed);
    for (RamBlock block : source.blocks()) {
      source.fill(block.guestAddress(), block.usedLength(), (byte) 0);
    }
    for (RamBlock block : source.blocks()) {
      for (long page = 0; page < block.pageCount(); page += 3) {
        byte[] text = new byte[4096];
        for (int i = 0; i < text.length; i++) {
          text[i] = (byte) ('a' + random.nextInt(6));
        }
        source.write(block.guestAddress() + page * 4096, text, 0, text.length);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out, bufferBytes);
    writer.writeHeader(
        source.blocks(), List.of(TestCodecsProvider.CAPABILITY), frameCodec, OPTIONS);
    PageEncoder encoder = plugins.create(null).pageEncoder();
    for (int b = 0; b < 2; b++) {
      RamBlock block = source.blocks().get(b);
      for (long page = 0; page < block.pageCount(); page++) {
        send(writer, encoder, b, block, page);
      }
    }
    for (int i = 0; i < 30; i++) {
      int b = i % 4 == 0 ? 1 : 0;
      RamBlock block = b == 0 ? ram : vram;
      long page = random.nextLong(block.pageCount());
      int changes = i % 10 == 9 ? 600 : 1 + random.nextInt(20);
      for (int c = 0; c < changes; c++) {
        source.write(
            block.guestAddress() + page * 4096 + random.nextInt(4096),
            new byte[] {(byte) random.nextInt(256)},
            0,
            1);
      }
      send(writer, encoder, b, block, page);
    }
    writer.writeDigest(ram, null);
    writer.writeDigest(vram, null);
    writer.writeEndOfStream();
    assertThat(writer.encodedPagesWritten()).as("seed %d", seed).isGreaterThan(10);
    assertThat(writer.bytesWritten()).isEqualTo(out.size());
    return out.toByteArray();
  }

  private static void send(
      MigrationStreamWriter writer, PageEncoder encoder, int index, RamBlock block, long page)
      throws IOException {
    if (block.isZeroPage(page)) {
      writer.writeZeroPage(block, page);
      encoder.zeroSent(index, page);
      return;
    }
    byte[] data = new byte[4096];
    block.readPage(page, data, 0);
    ByteBuffer out = ByteBuffer.allocate(4095);
    int length = encoder.encode(index, page, data, 0, out);
    if (length > 0) {
      writer.writeEncodedPage(block, page, 0, out.array(), 0, length);
    } else if (length < 0) {
      writer.writePage(block, page, data, 0);
    }
  }

  private DestinationReport receive(GuestMemory into, byte[] stream) throws IOException {
    return new Destination(into, new StreamPlugins(List.of(plugins)))
        .receive(new ByteArrayInputStream(stream));
  }

  private void assertSameAsSource(GuestMemory copy) {
    for (int b = 0; b < source.blocks().size(); b++) {
      RamBlock from = source.blocks().get(b);
      for (long p = 0; p < from.pageCount(); p++) {
        assertThat(copy.blocks().get(b).samePage(p, from))
            .as("seed %d: %s page %d", seed, from.name(), p)
            .isTrue();
      }
    }
  }

  @Test
  void anEncodedStreamLoadsByteForByte() throws IOException {
    byte[] stream = encodedStream(null, MigrationStreamWriter.DEFAULT_BUFFER_BYTES);
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      DestinationReport report = receive(copy, stream);

      assertThat(report.verified()).as("seed %d: %s", seed, report).isTrue();
      assertThat(report.encodedPages()).isGreaterThan(10);
      assertThat(report.bytesRead()).isEqualTo(stream.length);
      assertSameAsSource(copy);
    }
  }

  @Test
  void anEncodedCompressedStreamLoadsByteForByteAndIsSmaller() throws IOException {
    byte[] plain = encodedStream(null, 16 * 1024);
    byte[] compressed = encodedStream(plugins.frameCodecs().get(0), 16 * 1024);
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      DestinationReport report = receive(copy, compressed);

      assertThat(report.verified()).as("seed %d: %s", seed, report).isTrue();
      assertThat(report.bytesRead()).isEqualTo(compressed.length);
      assertSameAsSource(copy);
    }
    System.out.printf(
        "encoded stream: %d bytes plain, %d compressed%n", plain.length, compressed.length);
    assertThat(compressed.length).isLessThan(plain.length / 2);
  }

  @Test
  void aDestinationWithoutThePageCodecRefusesTheStreamBeforeApplyingAnything() throws IOException {
    byte[] stream = encodedStream(null, MigrationStreamWriter.DEFAULT_BUFFER_BYTES);
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      copy.fill(copy.blocks().get(0).guestAddress(), 4096, (byte) 0x5A);
      Destination bare = new Destination(copy, new StreamPlugins(List.of()));

      assertThatThrownBy(() -> bare.receive(new ByteArrayInputStream(stream)))
          .isInstanceOf(IOException.class)
          .hasMessage(
              "the source uses test-delta; this destination has no plugin for it (available:"
                  + " none)");
      assertThat(bare.report().orElseThrow().completed()).isFalse();
      assertThat(copy.blocks().get(0).isZeroPage(0)).isFalse();
      assertThat(copy.blocks().get(0).isZeroPage(1)).isTrue();
    }
  }

  @Test
  void aDestinationWithoutTheFrameCodecNamesWhatItHas() throws IOException {
    byte[] stream = encodedStream(plugins.frameCodecs().get(0), 16 * 1024);
    MigrationOptimizationProvider pageCodecOnly =
        new MigrationOptimizationProvider() {
          @Override
          public String capability() {
            return TestCodecsProvider.CAPABILITY;
          }

          @Override
          public io.github.precopy.spi.MigrationOptimization create(
              io.github.precopy.spi.OptimizationContext context) {
            return phase -> {};
          }

          @Override
          public io.github.precopy.spi.PageCodec pageCodec() {
            return plugins.pageCodec();
          }
        };
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      Destination destination = new Destination(copy, new StreamPlugins(List.of(pageCodecOnly)));

      assertThatThrownBy(() -> destination.receive(new ByteArrayInputStream(stream)))
          .hasMessage(
              "the source compresses with test-deflate; this destination has no plugin for it"
                  + " (available: none)");
      assertThat(copy.blocks().get(0).isZeroPage(0)).isTrue();
    }
  }

  static Stream<Arguments> hostileCodecUnits() {
    return Stream.of(
        Arguments.of("17 page codecs", codecs(17), "page codec count 17 not in [0, 16]"),
        Arguments.of(
            "a name of length 0",
            unit(1).u8(0).u8(0),
            "page codec 0: name length 0 not in [1, 63]"),
        Arguments.of(
            "a name of 64 bytes",
            unit(1).u8(64).bytes(new byte[64]),
            "page codec 0: name length 64 not in [1, 63]"),
        Arguments.of(
            "an upper-case name",
            named(unit(1), "XBZRLE").u8(0),
            "page codec 0: \"XBZRLE\" is not a codec name"),
        Arguments.of(
            "a name with a control byte",
            unit(1).u8(3).bytes(new byte[] {'a', 0x07, 'b'}).u8(0),
            "page codec 0: \"a?b\" is not a codec name"),
        Arguments.of(
            "a name given twice",
            named(named(unit(2), "test-delta"), "test-delta").u8(0),
            "page codec 1: \"test-delta\" is named twice"),
        Arguments.of("no codec at all", unit(0).u8(0), "a CODECS unit that names no codec"),
        Arguments.of(
            "a frame codec name of 64 bytes",
            unit(0).u8(64).bytes(new byte[64]),
            "frame codec: name length 64 not in [1, 63]"),
        Arguments.of(
            "a name cut by the end of the frame",
            unit(1).u8(10).bytes("test".getBytes(StandardCharsets.US_ASCII)),
            "page codec 0 name of 10 bytes runs past the end of its frame"));
  }

  private static StreamBytes unit(int count) {
    return headerFields(4096, 0, 0, 1, 2).u64(0x100).u8(count);
  }

  private static StreamBytes named(StreamBytes unit, String name) {
    byte[] ascii = name.getBytes(StandardCharsets.US_ASCII);
    return unit.u8(ascii.length).bytes(ascii);
  }

  private static StreamBytes codecs(int count) {
    StreamBytes unit = unit(count);
    for (int i = 0; i < count; i++) {
      named(unit, "c" + i);
    }
    return unit.u8(0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileCodecUnits")
  void aHostileCodecListIsRejectedBeforeAnyRecord(String name, StreamBytes unit, String message)
      throws IOException {
    StreamBytes stream = unit;
    if (!name.contains("cut by the end")) {
      for (RamBlock block : source.blocks()) {
        stream.blockEntry(block.name(), block.guestAddress(), block.usedLength());
      }
      stream.frameBreak().zero(0, 0, 7).eos(1, 0);
    }
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      assertThatThrownBy(() -> receive(copy, stream.toByteArray()))
          .isInstanceOf(MigrationStreamException.class)
          .hasMessageContaining(message);
      assertThat(copy.blocks().get(0).isZeroPage(0)).isTrue();
    }
  }

  @Test
  void aCodecsUnitAfterTheHeaderIsRejected() throws IOException {
    StreamBytes stream = StreamBytes.header(source).u64(0x100).u8(0).u8(0);
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      assertThatThrownBy(() -> receive(copy, stream.toByteArray()))
          .hasMessageContaining("a CODECS unit outside the channel header");
    }
  }

  @Test
  void recordsInTheHeaderFrameOfACompressedStreamAreRejected() throws IOException {
    StreamBytes stream = named(unit(0), TestCodecsProvider.FRAME_CODEC);
    for (RamBlock block : source.blocks()) {
      stream.blockEntry(block.name(), block.guestAddress(), block.usedLength());
    }
    stream.zero(0, 0, 7).eos(1, 0);
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      assertThatThrownBy(() -> receive(copy, stream.toByteArray()))
          .hasMessageContaining("records share the header's frame");
    }
  }

  static Stream<Arguments> hostileEncodedRecords() {
    return Stream.of(
        Arguments.of(
            "codec id past the list",
            encoded(1, 3, new byte[] {0, 1, 9}),
            "codec id 1 not among the 1 codecs the stream named"),
        Arguments.of("length 0", encoded(0, 0, new byte[0]), "encoded length 0 not in [1, 4095]"),
        Arguments.of(
            "length 4096", encoded(0, 4096, new byte[0]), "encoded length 4096 not in [1, 4095]"),
        Arguments.of(
            "payload cut by the end of the frame",
            encoded(0, 30, new byte[] {0, 1, 9}),
            "ENCODED payload of 30 bytes runs past the end of its frame"),
        Arguments.of(
            "an encoding the decoder refuses",
            encoded(0, 3, new byte[] {0x10, 0, 9}),
            "test-delta encoding of page 0 of block pc.ram does not decode: delta offset 4096"
                + " past the page"));
  }

  private static StreamBytes encoded(int codec, int length, byte[] payload) {
    return new StreamBytes().u64(0x80).u32(0).u8(codec).u16(length).bytes(payload);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileEncodedRecords")
  void aHostileEncodedRecordIsRejectedAndLeavesThePage(
      String name, StreamBytes record, String message) throws IOException {
    StreamBytes stream = named(unit(1), TestCodecsProvider.CAPABILITY).u8(0);
    for (RamBlock block : source.blocks()) {
      stream.blockEntry(block.name(), block.guestAddress(), block.usedLength());
    }
    stream.bytes(record.unframed()).eos(1, 0);
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      copy.fill(copy.blocks().get(0).guestAddress(), 4096, (byte) 0x5A);
      byte[] before = new byte[4096];
      copy.blocks().get(0).readPage(0, before, 0);

      assertThatThrownBy(() -> receive(copy, stream.toByteArray()))
          .isInstanceOf(MigrationStreamException.class)
          .hasMessageContaining(message);
      byte[] after = new byte[4096];
      copy.blocks().get(0).readPage(0, after, 0);
      assertThat(after).isEqualTo(before);
    }
  }

  @Test
  void aCompressedFrameThatDoesNotDecompressIsRejected() throws IOException {
    StreamBytes stream = named(unit(0), TestCodecsProvider.FRAME_CODEC);
    for (RamBlock block : source.blocks()) {
      stream.blockEntry(block.name(), block.guestAddress(), block.usedLength());
    }
    stream.frameBreak().bytes("not deflate at all".getBytes(StandardCharsets.US_ASCII));
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      assertThatThrownBy(() -> receive(copy, stream.toByteArray()))
          .isInstanceOf(MigrationStreamException.class)
          .hasMessageContaining("frame 1 of 18 bytes does not decompress with test-deflate");
    }
  }

  @Test
  void everySingleByteCorruptionAndTruncationOfAnEncodedCompressedStreamIsRejected()
      throws IOException {
    byte[] stream = encodedStream(plugins.frameCodecs().get(0), 8 * 1024);
    int corruptions = 0;
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      for (int at = 0; at < stream.length; at++) {
        byte original = stream[at];
        int xor = at % 2 == 0 ? 0x01 : 1 + random.nextInt(255);
        stream[at] = (byte) (original ^ xor);
        assertRejected(copy, stream, "seed " + seed + ": byte " + at + " ^ " + xor);
        corruptions++;
        stream[at] = original;
      }
      for (int length = 0; length < stream.length; length++) {
        assertRejected(copy, Arrays.copyOf(stream, length), "seed " + seed + ": cut to " + length);
      }
    }
    System.out.printf(
        "encoded compressed stream of %d bytes: %d corruptions and %d truncations rejected%n",
        stream.length, corruptions, stream.length);
  }

  private void assertRejected(GuestMemory copy, byte[] stream, String what) {
    Destination destination = new Destination(copy, new StreamPlugins(List.of(plugins)));
    assertThatThrownBy(() -> destination.receive(new ByteArrayInputStream(stream)))
        .as(what)
        .isInstanceOf(IOException.class);
    assertThat(destination.report().orElseThrow().completed()).as(what).isFalse();
  }

  /**
   * Seeded structure-aware fuzzing: bytes of the records of an encoded stream changed, then framed
   * again with correct checksums so that they reach the record validator and the decoder; and bytes
   * of compressed frames changed with their checksums made right again, so that they reach the
   * decompressor. Each case loads or is rejected with a {@link MigrationStreamException} (or a
   * missing plugin, when the change renamed a codec), never anything else.
   */
  @Test
  void mutationsThatPassTheChecksumLoadOrAreRejectedCleanly() throws IOException {
    byte[] encoded = encodedStream(null, StreamFormat.MAX_FRAME_BYTES);
    byte[] payload = Arrays.copyOfRange(encoded, 20, encoded.length);
    byte[] compressed = encodedStream(plugins.frameCodecs().get(0), 16 * 1024);
    List<int[]> frames = frames(compressed);
    int loaded = 0;
    int rejected = 0;
    try (GuestMemory copy = TestMemories.sameLayout(source)) {
      for (int i = 0; i < 600; i++) {
        byte[] mutated;
        if (i % 2 == 0) {
          byte[] records = payload.clone();
          for (int changes = 1 + random.nextInt(4); changes > 0; changes--) {
            records[random.nextInt(records.length)] ^= (byte) (1 + random.nextInt(255));
          }
          mutated = StreamBytes.framed(records);
        } else {
          mutated = compressed.clone();
          int[] frame = frames.get(1 + random.nextInt(frames.size() - 1));
          for (int changes = 1 + random.nextInt(4); changes > 0; changes--) {
            mutated[frame[0] + 8 + random.nextInt(frame[1])] ^= (byte) (1 + random.nextInt(255));
          }
          int crc =
              StreamBytes.frameChecksum(
                  frame[2], frame[1], mutated, frame[0] + 8, frame[0] + 8 + frame[1]);
          ByteBuffer.wrap(mutated).putInt(frame[0] + 4, crc);
        }
        String what = "seed " + seed + ", case " + i;
        try {
          receive(copy, mutated);
          loaded++;
        } catch (MigrationStreamException e) {
          rejected++;
        } catch (IOException e) {
          assertThat(e.getMessage()).as(what).startsWith("the source uses ");
          rejected++;
        }
      }
    }
    System.out.printf("codec fuzz: %d cases loaded, %d rejected%n", loaded, rejected);
    assertThat(rejected).isGreaterThan(300);
  }

  /** Each frame's offset, payload length and index in a single-channel stream. */
  private static List<int[]> frames(byte[] stream) {
    List<int[]> frames = new java.util.ArrayList<>();
    ByteBuffer in = ByteBuffer.wrap(stream);
    for (int at = StreamFormat.PRELUDE_BYTES; at < stream.length; ) {
      int length = in.getInt(at);
      frames.add(new int[] {at, length, frames.size()});
      at += 8 + length;
    }
    return frames;
  }
}
