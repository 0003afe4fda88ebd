package io.github.precopy.examples.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of a run, with QEMU's {@code query-migrate} names: {@code status}, {@code
 * total-time}, {@code setup-time}, {@code downtime}, {@code downtime-limit-exceeded} (true, only
 * when the downtime broke the limit), {@code expected-downtime} (only while the migration is
 * active, as QEMU reports it), {@code cpu-throttle-percentage} (only when the guest was throttled:
 * the throttle at the last sync), {@code ram}, each enabled capability's figures under its name
 * (e.g. {@code free-page-hint}; {@code xbzrle}'s under {@code xbzrle-cache}, QEMU's name: {@code
 * cache-size}, {@code bytes}, {@code pages}, {@code cache-miss}, {@code cache-miss-rate}, {@code
 * encoding-rate}, {@code overflow}), {@code multifd-compression} (only when a frame codec
 * compressed the stream: {@code codec}, {@code uncompressed-bytes}, {@code compressed-bytes},
 * {@code compression-rate}), {@code verification} (null when the destination is elsewhere), {@code
 * rounds}, {@code error-desc} (only when there is an error, as in QEMU), and {@code capabilities}
 * and {@code guest} to say what ran. Times in ms, sizes in bytes.
 */
final class StatsJson {

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * The JSON names of figures whose {@link MigrationStats#optimizations()} key is not QEMU's name
   * for them: QEMU's {@code query-migrate} calls the {@code xbzrle} capability's section {@code
   * xbzrle-cache}.
   */
  static final Map<String, String> SECTION_NAMES = Map.of("xbzrle", "xbzrle-cache");

  private StatsJson() {}

  /** One run as a pretty-printed JSON object. */
  static String of(RunResult run, GuestSpec guest, String transport) {
    return write(node(run, guest, transport));
  }

  /** Several runs as a pretty-printed JSON array. */
  static String of(List<RunResult> runs, GuestSpec guest, String transport) {
    ArrayNode array = MAPPER.createArrayNode();
    runs.forEach(run -> array.add(node(run, guest, transport)));
    return write(array);
  }

  /** Writes any tree built with {@link #mapper()}. */
  static String write(Object tree) {
    try {
      return MAPPER.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
    }
  }

  /** The mapper the command line builds its JSON trees with. */
  static ObjectMapper mapper() {
    return MAPPER;
  }

  private static ObjectNode node(RunResult run, GuestSpec guest, String transport) {
    MigrationStats stats = run.stats();
    ObjectNode node = MAPPER.createObjectNode();
    ArrayNode capabilities = node.putArray("capabilities");
    run.capabilities().forEach(capabilities::add);
    node.put("status", stats.status().qemuName());
    node.put("total-time", stats.totalTimeMillis());
    node.put("setup-time", stats.setupTimeMillis());
    node.put("downtime", stats.downtimeMillis());
    if (stats.downtimeLimitExceeded()) {
      node.put("downtime-limit-exceeded", true);
    }
    if (stats.status() == MigrationStatus.ACTIVE) {
      node.put("expected-downtime", stats.expectedDowntimeMillis());
    }
    if (stats.cpuThrottlePercentage() > 0) {
      node.put("cpu-throttle-percentage", stats.cpuThrottlePercentage());
    }
    MigrationStats.Ram ram = stats.ram();
    ObjectNode ramNode = node.putObject("ram");
    ramNode.put("transferred", ram.transferred());
    ramNode.put("remaining", ram.remaining());
    ramNode.put("total", ram.total());
    ramNode.put("duplicate", ram.duplicate());
    ramNode.put("normal", ram.normal());
    ramNode.put("normal-bytes", ram.normalBytes());
    ramNode.put("dirty-sync-count", ram.dirtySyncCount());
    ramNode.put("dirty-pages-rate", ram.dirtyPagesRate());
    ramNode.put("mbps", ram.mbps());
    ramNode.put("pages-per-second", ram.pagesPerSecond());
    ramNode.put("precopy-bytes", ram.precopyBytes());
    ramNode.put("downtime-bytes", ram.downtimeBytes());
    for (Map.Entry<String, Map<String, Object>> optimization : stats.optimizations().entrySet()) {
      String name = SECTION_NAMES.getOrDefault(optimization.getKey(), optimization.getKey());
      if (!node.has(name)) {
        node.set(name, MAPPER.valueToTree(optimization.getValue()));
      }
    }
    if (run.guestBuddyInfo() != null) {
      ArrayNode buddyInfo = node.putArray("guest-buddyinfo");
      run.guestBuddyInfo().lines().forEach(buddyInfo::add);
    }
    MigrationStats.Verification verification = stats.verification();
    if (verification == null) {
      node.putNull("verification");
    } else {
      ObjectNode verificationNode = node.putObject("verification");
      verificationNode.put("pages-checked", verification.pagesChecked());
      verificationNode.put("mismatches", verification.mismatches());
    }
    ArrayNode rounds = node.putArray("rounds");
    for (MigrationStats.Round round : stats.rounds()) {
      ObjectNode roundNode = rounds.addObject();
      roundNode.put("sync-count", round.syncCount());
      roundNode.put("end-time", round.endMillis());
      roundNode.put("pages-sent", round.pagesSent());
      roundNode.put("bytes-sent", round.bytesSent());
      roundNode.put("newly-dirty-pages", round.newlyDirtyPages());
      roundNode.put("remaining", round.remainingBytes());
      roundNode.put("guest-running", round.guestRunning());
      roundNode.put("cpu-throttle-percentage", round.cpuThrottlePercentage());
    }
    if (stats.errorDescription() != null) {
      node.put("error-desc", stats.errorDescription());
    }
    ObjectNode guestNode = node.putObject("guest");
    guestNode.put("memory", guest.memoryBytes());
    guestNode.put("vcpus", guest.vcpus());
    guestNode.put("workload", guest.workload());
    guestNode.set("workload-options", MAPPER.valueToTree(guest.options().values()));
    guestNode.put("seed", guest.seed());
    guestNode.put("settle", guest.settle().toMillis());
    node.put("transport", transport);
    return node;
  }
}
