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

    /**
     * One call site's method, {@code name} with {@code arity} parameters, resolved once per class:
     * a call is one {@link ClassValue#get} and the invocation, nothing allocated on the way.
     */
    static final class Fn extends ClassValue<Method> {
        private final String name;
        private final int arity;

        Fn(String name, int arity) {
            this.name = name;
            this.arity = arity;
        }

        @Override
        protected Method computeValue(Class<?> type) {
            return method(type, name, arity);
        }

        /** {@code target.name(args)}; null if target is null or has no such method. */
        Object call(Object target, Object... args) throws IOException {
            if (target == null) {
                return null;
            }
            Method m = get(target.getClass());
            return m == null ? null : invoke(m, target, args);
        }

        int integer(Object target, int fallback) throws IOException {
            Object v = call(target);
            return v instanceof Number ? ((Number) v).intValue() : fallback;
        }

        String string(Object target, Object... args) throws IOException {
            Object v = call(target, args);
            return v == null ? null : v.toString();
        }
    }

    /** One call site's field {@code name}, declared by the class or a superclass, resolved once per class. */
    static final class FieldFn extends ClassValue<Field> {
        private final String name;

        FieldFn(String name) {
            this.name = name;
        }

        @Override
        protected Field computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    Field f = c.getDeclaredField(name);
                    return f.trySetAccessible() ? f : null;
                } catch (NoSuchFieldException e) {
                    // try the superclass
                }
            }
            return null;
        }

        Object read(Object target) {
            if (target == null) {
                return null;
            }
            Field f = get(target.getClass());
            try {
                return f == null ? null : f.get(target);
            } catch (IllegalAccessException e) {
                return null;
            }
        }
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

    /** {@code target.name(args)}; null if target is null or has no such method. */
    static Object call(Object target, String name, Object... args) throws IOException {
        if (target == null) {
            return null;
        }
        Method m = method(target.getClass(), name, args.length);
        return m == null ? null : invoke(m, target, args);
    }

    private static Object invoke(Method m, Object target, Object[] args) throws IOException {
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
