package io.connguard.agent.instrument.http;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reflective access to HTTP client library objects, whose classes the agent never links against:
 * they live in the application's class loaders, in any version, and sometimes relocated into
 * other packages (Maven's copy of HttpClient 4). Methods are found by name and number of
 * parameters on the object's own class, once per class, so a relocated copy works like the
 * original. The one reflection helper of the pool adapters and the retry glue; only called off
 * the hot path of a request (on borrow, return, reclaim, and a retried request's hooks).
 */
public final class LibraryObjects {

    private static final Object[] NONE = new Object[0];
    /** The most bytes of a refused response read to release its connection for reuse. */
    public static final int DRAIN_LIMIT = 64 * 1024;
    /** How much of an error body is read to tell a database error from a credentials one. */
    public static final int PEEK_LIMIT = 8 * 1024;

    private static final ClassValue<ConcurrentHashMap<String, Object>> METHODS = new ClassValue<>() {
        @Override
        protected ConcurrentHashMap<String, Object> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };
    private static final Object MISSING = new Object();

    private LibraryObjects() {
    }

    /**
     * One call site's method, {@code name} with {@code arity} parameters, resolved once per class:
     * a call is one {@link ClassValue#get} and the invocation, nothing allocated on the way.
     */
    public static final class Fn extends ClassValue<Method> {
        private final String name;
        private final int arity;

        public Fn(String name, int arity) {
            this.name = name;
            this.arity = arity;
        }

        @Override
        protected Method computeValue(Class<?> type) {
            return method(type, name, arity);
        }

        /** {@code target.name(args)}; null if target is null or has no such method. */
        public Object call(Object target, Object... args) throws IOException {
            if (target == null) {
                return null;
            }
            Method m = get(target.getClass());
            return m == null ? null : invoke(m, target, args);
        }

        public int integer(Object target, int fallback) throws IOException {
            Object v = call(target);
            return v instanceof Number ? ((Number) v).intValue() : fallback;
        }

        public String string(Object target, Object... args) throws IOException {
            Object v = call(target, args);
            return v == null ? null : v.toString();
        }

        /** As {@link #call}, expecting a socket (anything else counts as none). */
        public Socket socket(Object target) throws IOException {
            Object s = call(target);
            return s instanceof Socket ? (Socket) s : null;
        }
    }

    /** One call site's field {@code name}, declared by the class or a superclass, resolved once per class. */
    public static final class FieldFn extends ClassValue<Field> {
        private final String name;

        public FieldFn(String name) {
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

        public Object read(Object target) {
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

    /** A public method {@code name(X, boolean)}, as pools' {@code release(entry, reusable)}. */
    public static final class Release extends ClassValue<Method> {
        @Override
        protected Method computeValue(Class<?> type) {
            for (Method m : type.getMethods()) {
                Class<?>[] p = m.getParameterTypes();
                if (m.getName().equals("release") && p.length == 2 && p[1] == boolean.class && !m.isBridge()) {
                    m.trySetAccessible();
                    return m;
                }
            }
            return null;
        }

        /** {@code pool.release(entry, false)}: the entry is closed and leaves the pool's books. */
        public void discard(Object pool, Object entry) throws ReflectiveOperationException {
            Method m = pool == null ? null : get(pool.getClass());
            if (m != null) {
                m.invoke(pool, entry, Boolean.FALSE);
            }
        }
    }

    /**
     * A public one-argument method taking an enum, called with the named constant: Apache
     * HttpClient 5's {@code discardConnection(CloseMode.IMMEDIATE)}.
     */
    public static final class WithEnum extends ClassValue<Object[]> {
        private final String name;
        private final String constant;

        public WithEnum(String name, String constant) {
            this.name = name;
            this.constant = constant;
        }

        @Override
        protected Object[] computeValue(Class<?> type) {
            for (Method m : type.getMethods()) {
                Class<?>[] p = m.getParameterTypes();
                if (m.getName().equals(name) && p.length == 1 && p[0].isEnum()) {
                    for (Object c : p[0].getEnumConstants()) {
                        if (((Enum<?>) c).name().equals(constant)) {
                            m.trySetAccessible();
                            return new Object[] {m, c};
                        }
                    }
                }
            }
            return null;
        }

        public boolean call(Object target) throws ReflectiveOperationException {
            Object[] mc = target == null ? null : get(target.getClass());
            if (mc == null) {
                return false;
            }
            ((Method) mc[0]).invoke(target, mc[1]);
            return true;
        }
    }

    /** The public method {@code name} with {@code arity} parameters of {@code type}, or null. */
    public static Method method(Class<?> type, String name, int arity) {
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
    public static Object call(Object target, String name, Object... args) throws IOException {
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
    public static String string(Object target, String name, Object... args) throws IOException {
        Object v = call(target, name, args);
        return v == null ? null : v.toString();
    }

    /** As {@link #call}, as an int ({@code fallback} when absent). */
    public static int integer(Object target, String name, int fallback) throws IOException {
        Object v = call(target, name);
        return v instanceof Number ? ((Number) v).intValue() : fallback;
    }

    /** The class named {@code name} among {@code type} and its superclasses. */
    public static Class<?> superclassNamed(Class<?> type, String name) throws ClassNotFoundException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(name)) {
                return c;
            }
        }
        throw new ClassNotFoundException(name + " is not a superclass of " + type.getName());
    }

    /**
     * Reads {@code in} to its end, at most {@link #DRAIN_LIMIT} bytes, and closes it: a fully read
     * body lets the client reuse its connection. Returns whether the end was reached.
     */
    public static boolean drain(InputStream in) {
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
    public static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, 0, Math.min(bytes.length, PEEK_LIMIT), StandardCharsets.UTF_8);
    }
}
