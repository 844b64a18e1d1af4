package io.connguard.it;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The leak reports in a JVM's stderr: every line with {@code connguard: leak [<kind>]} and the
 * stack lines beneath it (lines starting with a tab), e.g.
 * <pre>
 * 2026-11-21T20:26:29.431Z WARN connguard - connguard: leak [age]: connection to 127.0.0.1:PORT (Apache HttpClient 4) borrowed by thread "main" 2104 ms ago ...; borrowed at:
 * 	at io.connguard.testapps.clients.Apache4Driver.leak(Apache4Driver.java:48)
 * </pre>
 */
final class LeakReports {

    static final String MARKER = "connguard: leak [";

    private static final Pattern AGE = Pattern.compile("(\\d+) ms ago");
    private static final Pattern BACK_AFTER = Pattern.compile("came back after (\\d+) ms");

    private LeakReports() {
    }

    /** One report: its line number in stderr, kind ({@code age}, {@code returned}, {@code garbage}), line and stack. */
    record Report(int index, String kind, String headline, List<String> stack) {

        boolean isFor(int port) {
            return headline.contains("127.0.0.1:" + port);
        }

        /** A stack line holds the frame {@code (File.java:line)}. */
        boolean stackNames(String fileAndLine) {
            return stack.stream().anyMatch(l -> l.contains("(" + fileAndLine + ")"));
        }

        /** {@code borrowed by thread "main" 2104 ms ago} → 2104. */
        Optional<Long> ageMillis() {
            return number(AGE, headline);
        }

        /** {@code came back after 6012 ms} → 6012. */
        Optional<Long> backAfterMillis() {
            return number(BACK_AFTER, headline);
        }

        /** The time stamp the log line starts with, when it has one. */
        Optional<Instant> loggedAt() {
            int space = headline.indexOf(' ');
            if (space <= 0) {
                return Optional.empty();
            }
            try {
                return Optional.of(Instant.parse(headline.substring(0, space)));
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }

        @Override
        public String toString() {
            return "#" + index + " [" + kind + "] " + headline + (stack.isEmpty() ? "" : "\n" + String.join("\n", stack));
        }
    }

    static List<Report> parse(List<String> stderr) {
        List<Report> reports = new ArrayList<>();
        for (int i = 0; i < stderr.size(); i++) {
            String line = stderr.get(i);
            int at = line.indexOf(MARKER);
            if (at < 0) {
                continue;
            }
            int end = line.indexOf(']', at + MARKER.length());
            String kind = end < 0 ? "" : line.substring(at + MARKER.length(), end);
            List<String> stack = new ArrayList<>();
            int j = i + 1;
            while (j < stderr.size() && stderr.get(j).startsWith("\t")) {
                stack.add(stderr.get(j));
                j++;
            }
            reports.add(new Report(i, kind, line, List.copyOf(stack)));
        }
        return reports;
    }

    static List<Report> ofKind(List<Report> reports, String kind) {
        return reports.stream().filter(r -> r.kind().equals(kind)).collect(Collectors.toList());
    }

    /** Stack lines anywhere in stderr that hold the frame {@code (File.java:line)}. */
    static long stackLinesNaming(List<String> stderr, String fileAndLine) {
        return stderr.stream().filter(l -> l.startsWith("\t") && l.contains("(" + fileAndLine + ")")).count();
    }

    /** For assertion messages: every connguard line of stderr and the stack lines under it (at most 120 lines). */
    static String connguardLines(AppOutput out) {
        List<String> picked = new ArrayList<>();
        boolean inReport = false;
        for (String line : out.stderrLines()) {
            if (line.contains("connguard")) {
                picked.add(line);
                inReport = true;
            } else if (inReport && line.startsWith("\t")) {
                picked.add(line);
            } else {
                inReport = false;
            }
        }
        List<String> shown = picked.size() > 120 ? picked.subList(0, 120) : picked;
        return "connguard lines on stderr of " + out.process().name() + " (" + out.process().errFile() + "):\n"
                + (shown.isEmpty() ? "(none)" : String.join("\n", shown))
                + (picked.size() > shown.size() ? "\n... " + (picked.size() - shown.size()) + " more" : "")
                + "\n" + out.describe();
    }

    private static Optional<Long> number(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }
}
