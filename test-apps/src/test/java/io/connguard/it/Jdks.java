package io.connguard.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the JDKs the tests run applications on: the test JVM's own {@code java.home} when its
 * feature version matches, otherwise a sibling directory of {@code java.home} whose {@code release}
 * file says {@code JAVA_VERSION="<feature>...}. Never a hard-coded path.
 */
final class Jdks {

    private static final Pattern JAVA_VERSION = Pattern.compile("^JAVA_VERSION=\"([^\"]+)\"", Pattern.MULTILINE);
    private static final Map<Integer, Path> FOUND = new ConcurrentHashMap<>();

    private Jdks() {
    }

    /** The {@code bin/java} of a JDK with this feature version (17, 25, ...), or a clear failure. */
    static Path java(int feature) {
        return FOUND.computeIfAbsent(feature, Jdks::find).resolve("bin").resolve("java");
    }

    private static Path find(int feature) {
        Path current = Paths.get(System.getProperty("java.home")).toAbsolutePath().normalize();
        if (Runtime.version().feature() == feature) {
            return current;
        }
        Path parent = current.getParent();
        List<String> seen = new ArrayList<>();
        if (parent != null && Files.isDirectory(parent)) {
            try (Stream<Path> children = Files.list(parent)) {
                for (Path dir : (Iterable<Path>) children.sorted()::iterator) {
                    Optional<String> version = releaseVersion(dir);
                    if (version.isEmpty()) {
                        continue;
                    }
                    seen.add(dir.getFileName() + " (" + version.get() + ")");
                    if (featureOf(version.get()) == feature && Files.isExecutable(dir.resolve("bin").resolve("java"))) {
                        return dir;
                    }
                }
            } catch (IOException e) {
                throw new AssertionError("cannot list " + parent + " while looking for JDK " + feature + ": " + e, e);
            }
        }
        throw new AssertionError("No JDK " + feature + " found. Looked in " + parent
                + " (the parent of java.home " + current + ") for a directory whose release file says JAVA_VERSION=\""
                + feature + "...\" and that has bin/java; found " + (seen.isEmpty() ? "no JDKs" : String.join(", ", seen))
                + ". Install a JDK " + feature + " next to the one running Maven.");
    }

    private static Optional<String> releaseVersion(Path jdk) {
        Path release = jdk.resolve("release");
        if (!Files.isRegularFile(release)) {
            return Optional.empty();
        }
        try {
            Matcher m = JAVA_VERSION.matcher(Files.readString(release, StandardCharsets.UTF_8));
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** {@code 25.0.3} → 25, {@code 17} → 17, {@code 1.8.0_402} → 8. */
    static int featureOf(String version) {
        String[] parts = version.split("[._+-]");
        try {
            int first = Integer.parseInt(parts[0]);
            return first == 1 && parts.length > 1 ? Integer.parseInt(parts[1]) : first;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
