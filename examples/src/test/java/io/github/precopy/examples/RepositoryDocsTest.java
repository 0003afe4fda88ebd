package io.github.precopy.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The repository's own documents point only at what is in it, and what its tools generate is
 * ignored by git.
 */
final class RepositoryDocsTest {

  /** A file or folder named in code quotes, relative (system paths such as /dev/shm start at /). */
  private static final Pattern QUOTED_PATH = Pattern.compile("`([^`/\\s][^`\\s]*/[^`\\s]*)`");

  /** A section of a document named without the document being in the repository. */
  private static final Pattern SECTION_OF_AN_OUTSIDE_DOCUMENT =
      Pattern.compile("(?i)\\b(?:reference|design(?:\\.md)?) §\\d");

  @Test
  void theDesignNotesNameOnlyFilesOfTheRepository() throws IOException {
    Path root = repositoryRoot();
    Path notes = root.resolve("docs/design-notes.md");
    String text = Files.readString(notes);

    List<String> missing = new ArrayList<>();
    Matcher quoted = QUOTED_PATH.matcher(text);
    while (quoted.find()) {
      String name = quoted.group(1);
      Path fromRoot = root.resolve(name).normalize();
      Path fromNotes = notes.getParent().resolve(name).normalize();
      boolean inside =
          (fromRoot.startsWith(root) && Files.exists(fromRoot))
              || (fromNotes.startsWith(root) && Files.exists(fromNotes));
      if (!inside) {
        missing.add(name);
      }
    }
    assertThat(missing).as("paths in %s that are not in the repository", notes).isEmpty();
    assertThat(
            SECTION_OF_AN_OUTSIDE_DOCUMENT.matcher(text).results().map(MatchResult::group).toList())
        .as("sections of documents that are not in the repository")
        .isEmpty();
  }

  @Test
  void jcstressOutputIsIgnored() throws IOException {
    List<String> ignored = Files.readAllLines(repositoryRoot().resolve(".gitignore"));

    assertThat(ignored).contains("/results/", "/stress/results/", "jcstress-results-*");
  }

  /** The folder holding the Maven wrapper and {@code docs/}, above the module being tested. */
  private static Path repositoryRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("mvnw")) && Files.isDirectory(dir.resolve("docs"))) {
        return dir;
      }
    }
    throw new AssertionError("no repository root above " + Path.of("").toAbsolutePath());
  }
}
