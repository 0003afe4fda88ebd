package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.FrameWatcher;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamReader;
import io.github.precopy.core.testing.Loopback;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestGuest;
import io.github.precopy.core.testing.TestMemories;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The destination reads PAGE payloads straight into guest RAM where it can (plain TCP): the bytes
 * arrive as sent; a payload that lands before its frame's checksum fails never counts as applied; a
 * record that names a page outside its block, or on another channel, is rejected before any byte of
 * its payload reaches memory.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class ZeroCopyReceiveTest {

  private static final long MIB = 1 << 20;
  private static final int PAGE = GuestMemory.PAGE_SIZE;
  private static final long HELLO = 0x505245434F505948L;
  private static final long GREETING = 0x505245434F505941L;

  private final MigrationEngine engine = MigrationEngine.create();

  // ------------------------------------------------------------- the decoder over a scattering
  // input

  @Test
  void pagesLandInPlaceAndArriveByteForByte() throws Exception {
    SplittableRandom random = new SplittableRandom(41);
    try (GuestMemory memory = GuestMemory.anonymous(2 * MIB)) {
      StreamBytes stream = StreamBytes.header(memory).frameBreak();
      byte[][] pages = new byte[512][];
      int records = 0;
      int lastBreak = stream.size();
      for (int p = 0; p < pages.length; p++) {
        if (p % 5 == 3) {
          stream.zeroContinue(p, 0);
        } else {
          pages[p] = new byte[PAGE];
          random.nextBytes(pages[p]);
          if (p == 0) {
            stream.page(0, p, pages[p]);
          } else {
            stream.u64((long) p * PAGE | StreamBytes.PAGE | StreamBytes.CONTINUE).bytes(pages[p]);
          }
        }
        records++;
        if (stream.size() - lastBreak > 200_000) {
          stream.frameBreak();
          lastBreak = stream.size();
        }
      }
      stream.eos(records, 0);
      ScatterFeed feed = new ScatterFeed(stream.toByteArray(), random);

      DestinationReport report = receive(memory, feed);

      assertThat(report.completed()).isTrue();
      long dataPages = Arrays.stream(pages).filter(page -> page != null).count();
      assertThat(report.normalPages()).isEqualTo(dataPages);
      assertThat(feed.directBytes).as("bytes read straight into memory").isGreaterThan(0);
      assertThat(feed.directBytes % PAGE).isZero();
      byte[] actual = new byte[PAGE];
      for (int p = 0; p < pages.length; p++) {
        memory.read((long) p * PAGE, actual, 0, PAGE);
        assertThat(actual).as("page %d", p).isEqualTo(pages[p] == null ? new byte[PAGE] : pages[p]);
        assertThat(memory.blocks().get(0).isWritten(p)).isEqualTo(pages[p] != null);
      }
    }
  }

  @Test
  void aCorruptedPayloadThatLandedFailsItsFrameAndCountsNothing() throws Exception {
    try (GuestMemory memory = GuestMemory.anonymous(1 * MIB)) {
      byte[] bytes =
          StreamBytes.header(memory)
              .frameBreak()
              .page(0, 0, 0x11)
              .pageContinue(1, 0x22)
              .pageContinue(2, 0x33)
              .eos(3, 0)
              .toByteArray();
      int secondPayload = secondFramePayload(memory) + 4108 + 8 + 100;
      assertThat(bytes[secondPayload]).isEqualTo((byte) 0x22);
      bytes[secondPayload] ^= 0x01;
      ScatterFeed feed = new ScatterFeed(bytes, new SplittableRandom(42));
      Destination destination = new Destination(memory);

      assertThatThrownBy(() -> destination.receive(List.of(feed), List.of(feed.reader())))
          .isInstanceOf(MigrationStreamException.class)
          .hasMessageContaining("frame checksum")
          .hasMessageContaining("the stream is corrupted");

      assertThat(feed.directBytes).as("the payloads landed before the check").isEqualTo(3 * PAGE);
      DestinationReport report = destination.report().orElseThrow();
      assertThat(report.completed()).isFalse();
      assertThat(report.verified()).isFalse();
      assertThat(report.normalPages()).as("no page counted as applied").isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"past its block", "another channel", "unknown block"})
  void aHostileRecordIsRejectedBeforeAnyByteReachesMemory(String hostile) throws Exception {
    try (GuestMemory memory =
        GuestMemory.builder()
            .anonymousBlock("low", 0, 256 * PAGE)
            .anonymousBlock("high", 256L * PAGE, 256 * PAGE)
            .build()) {
      fillEveryBlock(memory, 0x5A);
      int channels = hostile.equals("another channel") ? 2 : 1;
      StreamBytes stream = StreamBytes.header(memory, 7, 0, channels).frameBreak();
      byte[] payload = new byte[PAGE];
      Arrays.fill(payload, (byte) 0xC3);
      switch (hostile) {
        case "past its block" -> stream.page(0, 256, payload);
        case "another channel" -> stream.page(0, 64, payload);
        default -> stream.page(2, 0, payload);
      }
      stream.eos(1, 0);
      ScatterFeed feed = new ScatterFeed(stream.toByteArray(), new SplittableRandom(43));
      MigrationStreamReader reader = feed.reader();
      Destination destination = new Destination(memory);

      ScatterFeed other =
          new ScatterFeed(StreamBytes.header(memory, 7, 1, 2).frameBreak().eos(0, 0).toByteArray());

      assertThatThrownBy(
              () ->
                  destination.receive(
                      channels == 1 ? List.of(feed) : List.of(feed, other),
                      channels == 1 ? List.of(reader) : List.of(reader, other.reader())))
          .isInstanceOf(MigrationStreamException.class);

      assertThat(feed.directBytes).as("bytes read straight into memory").isZero();
      assertThat(TestMemories.allBytesAre(memory, (byte) 0x5A)).isTrue();
      assertThat(destination.report().orElseThrow().completed()).isFalse();
    }
  }

  // ------------------------------------------------------------------------ over TCP, end to end

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void overTcpAMigrationArrivesByteForByte(int channels) throws Exception {
    TransportOptions options = TransportOptions.builder().channels(channels).build();
    try (TestGuest guest = TestGuest.filled(16 * MIB, 44);
        GuestMemory memory = GuestMemory.anonymous(16 * MIB)) {
      Loopback destination = Loopback.receive(memory, options);

      MigrationStats stats =
          engine
              .start(
                  guest,
                  MigrationConfig.defaults(),
                  MigrationTarget.tcp("127.0.0.1", destination.port(), options),
                  s -> {})
              .await();
      DestinationReport report = destination.awaitReport();

      assertThat(stats.status()).isEqualTo(MigrationStatus.COMPLETED);
      assertThat(report.verified()).isTrue();
      assertThat(report.mismatches()).isZero();
      assertThat(TestMemories.inUsePagesEqual(guest, memory)).isTrue();
      for (long p = 0; p < memory.totalPages(); p++) {
        assertThat(guest.memory().blocks().get(0).samePage(p, memory.blocks().get(0)))
            .as("page %d", p)
            .isTrue();
      }
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void overTcpACorruptedPayloadByteFailsTheStreamAndTheReport() throws Exception {
    try (GuestMemory memory = GuestMemory.anonymous(1 * MIB)) {
      byte[] bytes =
          StreamBytes.header(memory)
              .frameBreak()
              .page(0, 0, 0x11)
              .pageContinue(1, 0x22)
              .eos(2, 0)
              .toByteArray();
      bytes[secondFramePayload(memory) + 12 + 4000] ^= 0x40;
      Loopback destination = Loopback.receive(memory, TransportOptions.defaults());

      DestinationReport report = sendRaw(destination, bytes);

      assertThat(report.completed()).isFalse();
      assertThat(report.verified()).isFalse();
      assertThat(report.normalPages()).isZero();
      assertThat(report.failure()).contains("frame checksum", "the stream is corrupted");
    }
    Loopback.assertNoTransportThreadLeft();
  }

  @Test
  void overTcpAPageOutsideItsBlockLeavesTheMemoryIntact() throws Exception {
    try (GuestMemory memory =
        GuestMemory.builder()
            .anonymousBlock("low", 0, 64 * PAGE)
            .anonymousBlock("high", 64L * PAGE, 64 * PAGE)
            .build()) {
      fillEveryBlock(memory, 0x5A);
      byte[] bytes =
          StreamBytes.header(memory)
              .frameBreak()
              .page(0, 3, 0x11)
              .u64(64L * PAGE | StreamBytes.PAGE | StreamBytes.CONTINUE)
              .bytes(filled(0x77))
              .eos(2, 0)
              .toByteArray();
      Loopback destination = Loopback.receive(memory, TransportOptions.defaults());

      DestinationReport report = sendRaw(destination, bytes);

      assertThat(report.completed()).isFalse();
      assertThat(report.failure()).contains("not below used length");
      byte[] page = new byte[PAGE];
      for (long p = 0; p < memory.totalPages(); p++) {
        memory.read(p * PAGE, page, 0, PAGE);
        // Page 3 may have landed (its record was valid); nothing else was touched.
        if (p != 3) {
          assertThat(page).as("page %d", p).isEqualTo(filled(0x5A));
        }
      }
    }
    Loopback.assertNoTransportThreadLeft();
  }

  // ------------------------------------------------------------------------------------ helpers

  private static DestinationReport receive(GuestMemory memory, ScatterFeed feed)
      throws IOException {
    return new Destination(memory).receive(List.of(feed), List.of(feed.reader()));
  }

  /** Where the payload of the frame after the header's starts in a stream of StreamBytes. */
  private static int secondFramePayload(GuestMemory memory) {
    int header = StreamBytes.header(memory).size();
    return StreamBytes.PRELUDE_BYTES + StreamBytes.FRAME_HEADER_BYTES + header + 8;
  }

  private static void fillEveryBlock(GuestMemory memory, int value) {
    for (RamBlock block : memory.blocks()) {
      memory.fill(block.guestAddress(), block.usedLength(), (byte) value);
    }
  }

  private static byte[] filled(int value) {
    byte[] page = new byte[PAGE];
    Arrays.fill(page, (byte) value);
    return page;
  }

  /**
   * Says hello, sends {@code bytes} as one channel's stream, and returns the destination's report.
   */
  private static DestinationReport sendRaw(Loopback destination, byte[] bytes) throws Exception {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), destination.port())) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ByteBuffer.allocate(12).putLong(HELLO).putShort((short) 0).putShort((short) 1).array());
      assertThat(new DataInputStream(socket.getInputStream()).readLong()).isEqualTo(GREETING);
      try {
        out.write(bytes);
        out.flush();
        socket.shutdownOutput();
      } catch (IOException dropped) {
        // The destination may give up before it has read everything.
      }
      DestinationReport report = destination.awaitReport();
      DestinationReport reply = DestinationReport.readFrom(socket.getInputStream());
      assertThat(reply.failure()).isEqualTo(report.failure());
      return report;
    }
  }

  /**
   * One channel's bytes, read both as a stream and by scattering reads, in chunks of random sizes
   * (as a socket hands them over); counts the bytes that went straight into direct buffers.
   */
  private static final class ScatterFeed extends InputStream
      implements MigrationStreamReader.ScatteringInput {
    private final byte[] bytes;
    private final SplittableRandom random;
    private int at;
    long directBytes;

    ScatterFeed(byte[] bytes) {
      this(bytes, new SplittableRandom(0));
    }

    ScatterFeed(byte[] bytes, SplittableRandom random) {
      this.bytes = bytes;
      this.random = random;
    }

    MigrationStreamReader reader() {
      return new MigrationStreamReader(this, FrameWatcher.NONE, this);
    }

    private int chunk(int wanted) {
      return Math.min(wanted, random.nextBoolean() ? wanted : 1 + random.nextInt(6000));
    }

    @Override
    public int read() {
      return at < bytes.length ? bytes[at++] & 0xFF : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (at == bytes.length) {
        return -1;
      }
      int n = chunk(Math.min(len, bytes.length - at));
      System.arraycopy(bytes, at, b, off, n);
      at += n;
      return n;
    }

    @Override
    public long read(ByteBuffer[] targets) {
      if (at == bytes.length) {
        return -1;
      }
      int n = chunk(bytes.length - at);
      long done = 0;
      for (ByteBuffer target : targets) {
        int part = (int) Math.min(target.remaining(), n - done);
        target.put(bytes, at, part);
        at += part;
        done += part;
        if (target.isDirect()) {
          directBytes += part;
        }
      }
      return done;
    }
  }
}
