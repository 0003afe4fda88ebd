package io.github.precopy.core;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A JFR event for each dirty-log sync (its duration) and the precopy round it ends. */
@Name("io.github.precopy.Sync")
@Label("Precopy dirty-log sync")
@Category({"precopy", "migration"})
final class SyncEvent extends Event {

  @Label("Sync count")
  long syncCount;

  @Label("Newly dirty pages")
  long newlyDirtyPages;

  @Label("Remaining")
  @DataAmount
  long remainingBytes;

  @Label("Pages sent in the round")
  long roundPages;

  @Label("Guest running")
  boolean guestRunning;

  void finish(
      long syncCount, long newlyDirty, long remaining, long roundPages, boolean guestRunning) {
    if (shouldCommit()) {
      this.syncCount = syncCount;
      this.newlyDirtyPages = newlyDirty;
      this.remainingBytes = remaining;
      this.roundPages = roundPages;
      this.guestRunning = guestRunning;
      commit();
    }
  }
}
