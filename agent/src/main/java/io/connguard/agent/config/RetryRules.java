package io.connguard.agent.config;

import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/** Parsing and printing of the retry settings' list values: statuses and request methods. */
public final class RetryRules {

    /** The most attempts {@code CONNGUARD_RETRY_MAX_ATTEMPTS} accepts. */
    public static final int MAX_ATTEMPTS = 20;
    static final String STATUSES_ACCEPTED = "comma-separated HTTP statuses from 400 to 599 (e.g. 429,503),"
            + " or none";
    static final String METHODS_ACCEPTED = "comma-separated HTTP methods (e.g. GET,HEAD,PUT), or none";

    private RetryRules() {
    }

    /** {@code 429,503} as a set of status codes; {@code none} is the empty set. */
    static BitSet parseStatuses(String text) {
        BitSet statuses = new BitSet(600);
        if (text.trim().equalsIgnoreCase("none")) {
            return statuses;
        }
        for (String raw : text.split(",", -1)) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            int status = Values.parseCount(entry);
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException(Values.quote(entry) + " is not a status from 400 to 599");
            }
            statuses.set(status);
        }
        return statuses;
    }

    static String formatStatuses(BitSet statuses) {
        if (statuses.isEmpty()) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        statuses.stream().forEach(s -> b.append(b.length() == 0 ? "" : ",").append(s));
        return b.toString();
    }

    /** {@code GET,head} as {@code [GET, HEAD]} (upper case, in the order given); {@code none} is empty. */
    static Set<String> parseMethods(String text) {
        Set<String> methods = new LinkedHashSet<>();
        if (text.trim().equalsIgnoreCase("none")) {
            return Collections.unmodifiableSet(methods);
        }
        for (String raw : text.split(",", -1)) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            for (int i = 0; i < entry.length(); i++) {
                char c = entry.charAt(i);
                if (!(Character.isLetter(c) && c < 128) && c != '-' && c != '_') {
                    throw new IllegalArgumentException(Values.quote(entry) + " is not an HTTP method");
                }
            }
            methods.add(entry.toUpperCase(Locale.ROOT));
        }
        return Collections.unmodifiableSet(methods);
    }
}
