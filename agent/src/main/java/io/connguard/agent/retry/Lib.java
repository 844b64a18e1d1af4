package io.connguard.agent.retry;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reflective calls on client library objects the agent never links against (Apache HttpClient
 * 4 and 5, relocated copies of them, OkHttp, JDK internals): public methods found by name and
 * number of parameters on the object's own class, once per class and name.
 */
final class Lib {
    private static final Object[] NONE = new Object[0];
    /** The most bytes of a refused response read to release its connection for reuse. */
    static final int DRAIN_LIMIT = 64 * 1024;
    /** How much of an error body is read to tell a database error from a credentials one. */
    static final int PEEK_LIMIT = 8 * 1024;

    private static final ClassValue<ConcurrentHashMap<String, Object>> METHODS = new ClassValue<>() {
        @Override
        protected ConcurrentHashMap<String, Object> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };
    private static final Object MISSING = new Object();

    private Lib() {
    }

    /** The public method {@code name} with {@code arity} parameters of {@code type}, or null. */
    static Method method(Class<?> type, String name, int arity) {
        Object m = METHODS.get(type).computeIfAbsent(name + "/" + arity, k -> {
            for (Method candidate : type.getMethods()) {
                if (candidate.getName().equals(name) && candidate.getParameterCount() == arity && !candidate.isBridge()) {
                    candidate.trySetAccessible(); // public method of a package-private class
                    return candidate;
                }
            }
            return MISSING;
        });
        return m == MISSING ? null : (Method) m;
    }

    /** Whether {@code target} has a public method {@code name} with {@code arity} parameters. */
    static boolean has(Object target, String name, int arity) {
        return target != null && method(target.getClass(), name, arity) != null;
    }

    /** {@code target.name(args)}; null if target is null or has no such method. */
    static Object call(Object target, String name, Object... args) throws IOException {
        if (target == null) {
            return null;
        }
        Method m = method(target.getClass(), name, args.length);
        if (m == null) {
            return null;
        }
        try {
            return m.invoke(target, args.length == 0 ? NONE : args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException) {
                throw (IOException) cause;
            }
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new IllegalStateException(cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** As {@link #call}, as a string (null stays null). */
    static String string(Object target, String name, Object... args) throws IOException {
        Object v = call(target, name, args);
        return v == null ? null : v.toString();
    }

    /** As {@link #call}, as an int ({@code fallback} when absent). */
    static int integer(Object target, String name, int fallback) throws IOException {
        Object v = call(target, name);
        return v instanceof Number ? ((Number) v).intValue() : fallback;
    }

    /** The value of the field {@code name} declared by {@code target}'s class or a superclass. */
    static Object field(Object target, String name) {
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.trySetAccessible();
                return f.get(target);
            } catch (NoSuchFieldException e) {
                // try the superclass
            } catch (IllegalAccessException e) {
                return null;
            }
        }
        return null;
    }

    /**
     * Reads {@code in} to its end, at most {@link #DRAIN_LIMIT} bytes, and closes it: a fully read
     * body lets the client reuse its connection. Returns whether the end was reached.
     */
    static boolean drain(InputStream in) {
        if (in == null) {
            return true;
        }
        boolean end = false;
        try {
            byte[] buffer = new byte[8192];
            long total = 0;
            int n;
            while (total <= DRAIN_LIMIT && (n = in.read(buffer)) >= 0) {
                total += n;
            }
            end = total <= DRAIN_LIMIT;
        } catch (IOException | RuntimeException e) {
            // The connection is not reusable; closing below lets the client discard it.
        } finally {
            try {
                in.close();
            } catch (IOException | RuntimeException ignored) {
                // nothing more to do
            }
        }
        return end;
    }

    /** The first {@link #PEEK_LIMIT} bytes of {@code bytes} as text. */
    static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, 0, Math.min(bytes.length, PEEK_LIMIT), StandardCharsets.UTF_8);
    }
}
