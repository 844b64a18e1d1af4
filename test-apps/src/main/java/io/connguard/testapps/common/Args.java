package io.connguard.testapps.common;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Minimal command-line parser for {@code --name value} options and {@code --flag} switches.
 * Every app declares the options it accepts; anything else is a usage error (exit code 2).
 */
public final class Args {

    /** Thrown for a bad command line; {@link #exitWithUsage} prints it and exits with code 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }

    private final Map<String, String> values = new HashMap<>();

    private Args() {
    }

    /**
     * @param valued options that take a value (without the leading {@code --})
     * @param flags  switches without a value
     */
    public static Args parse(String[] argv, Set<String> valued, Set<String> flags) {
        Args args = new Args();
        for (int i = 0; i < argv.length; i++) {
            String token = argv[i];
            if (!token.startsWith("--") || token.length() == 2) {
                throw new UsageException("unexpected argument '" + token + "'");
            }
            String name = token.substring(2);
            String inlineValue = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inlineValue = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (inlineValue != null) {
                    throw new UsageException("--" + name + " takes no value");
                }
                args.values.put(name, "true");
            } else if (valued.contains(name)) {
                String value = inlineValue;
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw new UsageException("--" + name + " needs a value");
                    }
                    value = argv[++i];
                }
                args.values.put(name, value);
            } else {
                throw new UsageException("unknown option --" + name);
            }
        }
        return args;
    }

    public boolean flag(String name) {
        return values.containsKey(name);
    }

    public String string(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    public String required(String name) {
        String value = values.get(name);
        if (value == null || value.isEmpty()) {
            throw new UsageException("--" + name + " is required");
        }
        return value;
    }

    public int requiredInteger(String name, int min, int max) {
        required(name);
        return integer(name, 0, min, max);
    }

    public int integer(String name, int defaultValue, int min, int max) {
        String value = values.get(name);
        if (value == null) {
            return defaultValue;
        }
        int parsed;
        try {
            parsed = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + value + "'");
        }
        if (parsed < min || parsed > max) {
            throw new UsageException("--" + name + " must be between " + min + " and " + max + ", got " + parsed);
        }
        return parsed;
    }

    /** Prints the problem and the usage text to stderr and exits with code 2. */
    public static void exitWithUsage(String appName, String usage, UsageException e) {
        System.err.println(appName + ": " + e.getMessage());
        System.err.println("usage: " + usage);
        System.exit(2);
    }

    /** Options in declaration order, for usage messages. */
    public static Set<String> names(String... names) {
        Map<String, Boolean> ordered = new LinkedHashMap<>();
        for (String n : names) {
            ordered.put(n, Boolean.TRUE);
        }
        return ordered.keySet();
    }
}
