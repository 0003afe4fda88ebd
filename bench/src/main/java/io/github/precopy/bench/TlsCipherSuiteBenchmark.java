package io.github.precopy.bench;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The TLS 1.3 cipher suites of the JDK's provider, as the TCP transport uses them (issue #15): a
 * client and a server {@link SSLEngine} from throwaway self-signed EC P-256 keys ({@link TlsPair}),
 * mutual authentication, TLS 1.3 with only {@link #suite} enabled, handshaken in memory; then the
 * client encrypts ({@link #wrap}) and the server decrypts ({@link #unwrap}) frames of 1 MiB of
 * random bytes, on heap buffers (an {@code SSLSocket} wraps the heap arrays that the channel writer
 * hands it), in records of at most 16 KiB as an {@code SSLSocket} cuts them. A record cannot be
 * decrypted twice, so each {@link #unwrap} invocation's frame is encrypted beforehand in a {@code
 * Level.Invocation} setup, outside the measurement (a frame takes about a millisecond, far above
 * that setup's overhead).
 *
 * <p>Scores are bytes of plaintext per second, on one thread.
 *
 * <pre>{@code
 * ./mvnw -B -q -o package -DskipTests -pl bench -am
 * java -jar bench/target/benchmarks.jar TlsCipherSuiteBenchmark -f 2 -wi 3 -w 1s -i 5 -r 1s
 * }</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch"})
public class TlsCipherSuiteBenchmark {

  /** Plaintext bytes per frame, the channel writer's frame size. */
  static final int FRAME_BYTES = 1 << 20;

  @Param({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"})
  String suite;

  private SSLEngine client;
  private SSLEngine server;
  private ByteBuffer frame;
  private ByteBuffer records;
  private ByteBuffer received;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    try (TlsPair pair = TlsPair.create()) {
      client = engine(pair.source(), false);
      server = engine(pair.destination(), true);
    }
    handshake(client, server);
    if (!suite.equals(client.getSession().getCipherSuite())
        || !suite.equals(server.getSession().getCipherSuite())
        || !"TLSv1.3".equals(client.getSession().getProtocol())) {
      throw new IllegalStateException(
          "negotiated "
              + client.getSession().getProtocol()
              + " "
              + client.getSession().getCipherSuite()
              + ", not TLSv1.3 "
              + suite);
    }
    byte[] bytes = new byte[FRAME_BYTES];
    new SplittableRandom(1).nextBytes(bytes);
    frame = ByteBuffer.wrap(bytes);
    int recordsPerFrame = (FRAME_BYTES + (1 << 14) - 1) >> 14;
    records =
        ByteBuffer.allocate((recordsPerFrame + 1) * client.getSession().getPacketBufferSize());
    received = ByteBuffer.allocate(FRAME_BYTES + server.getSession().getApplicationBufferSize());
    encrypt();
    decrypt();
    if (!Arrays.equals(bytes, Arrays.copyOf(received.array(), received.position()))) {
      throw new IllegalStateException(suite + " does not round-trip");
    }
  }

  /** Encrypts the next frame for {@link #unwrap}, outside its measurement. */
  @Setup(Level.Invocation)
  public void encryptForUnwrap() throws SSLException {
    encrypt();
  }

  /** The client encrypts one frame (the server's next frame, for {@link #unwrap}). */
  @Benchmark
  @OperationsPerInvocation(FRAME_BYTES)
  public int wrap() throws SSLException {
    return encrypt();
  }

  /** The server decrypts the frame that the client encrypted beforehand. */
  @Benchmark
  @OperationsPerInvocation(FRAME_BYTES)
  public int unwrap() throws SSLException {
    return decrypt();
  }

  private int encrypt() throws SSLException {
    frame.clear();
    records.clear();
    while (frame.hasRemaining()) {
      check(client.wrap(frame, records));
    }
    records.flip();
    return records.remaining();
  }

  private int decrypt() throws SSLException {
    received.clear();
    while (records.hasRemaining()) {
      check(server.unwrap(records, received));
    }
    return received.position();
  }

  private static void check(SSLEngineResult result) {
    if (result.getStatus() != SSLEngineResult.Status.OK) {
      throw new IllegalStateException("unexpected " + result);
    }
  }

  private SSLEngine engine(SSLContext context, boolean server) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(!server);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setProtocols(new String[] {"TLSv1.3"});
    parameters.setCipherSuites(new String[] {suite});
    if (server) {
      parameters.setNeedClientAuth(true);
    }
    engine.setSSLParameters(parameters);
    return engine;
  }

  /** Runs the handshake between the two engines in memory, tickets included. */
  private static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
    int packet = client.getSession().getPacketBufferSize();
    int application = client.getSession().getApplicationBufferSize();
    ByteBuffer toServer = ByteBuffer.allocate(packet);
    ByteBuffer toClient = ByteBuffer.allocate(packet);
    ByteBuffer empty = ByteBuffer.allocate(0);
    ByteBuffer sink = ByteBuffer.allocate(application);
    client.beginHandshake();
    server.beginHandshake();
    for (int step = 0; step < 1000; step++) {
      boolean progress = false;
      progress |= advance(client, empty, toServer, toClient, sink);
      progress |= advance(server, empty, toClient, toServer, sink);
      if (!progress
          && done(client)
          && done(server)
          && toServer.position() == 0
          && toClient.position() == 0) {
        return;
      }
    }
    throw new IllegalStateException("the handshake did not finish");
  }

  /**
   * One step of {@code engine}: runs delegated tasks, wraps into {@code out} (a buffer being
   * filled) and unwraps from {@code in} (also being filled); whether anything moved.
   */
  private static boolean advance(
      SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer sink)
      throws SSLException {
    boolean progress = false;
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
      progress = true;
    }
    SSLEngineResult wrapped = engine.wrap(empty, out);
    progress |= wrapped.bytesProduced() > 0;
    in.flip();
    if (in.hasRemaining()) {
      SSLEngineResult unwrapped = engine.unwrap(in, sink);
      progress |= unwrapped.bytesConsumed() > 0;
      sink.clear();
    }
    in.compact();
    return progress;
  }

  private static boolean done(SSLEngine engine) {
    SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
    return status == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
        || status == SSLEngineResult.HandshakeStatus.FINISHED;
  }
}
