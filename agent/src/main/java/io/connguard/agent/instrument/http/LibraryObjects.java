package io.connguard.agent.instrument.http;

import java.lang.reflect.Method;
import java.net.Socket;

/**
 * Reflective access to HTTP client library objects (Apache HttpClient 4 and 5, OkHttp), whose
 * classes the agent never links against: they live in the application's class loaders, in any
 * version, and sometimes relocated into other packages (Maven's copy of HttpClient 4). Methods are
 * found by name and shape on the object's own class, once per class, so a relocated copy works
 * like the original. Only called off the hot path of a request: on borrow, return and reclaim.
 */
public final class LibraryObjects {

    private static final Object[] NO_ARGS = new Object[0];

    private LibraryObjects() {
    }

    /** A public no-argument method, cached per class. */
    public static final class NoArg extends ClassValue<Method> {
        private final String name;

        public NoArg(String name) {
            this.name = name;
        }

        @Override
        protected Method computeValue(Class<?> type) {
            try {
                Method m = type.getMethod(name);
                m.trySetAccessible(); // declared public in a package-private class (relocated copies too)
                return m;
            } catch (NoSuchMethodException e) {
                return null;
            }
        }

        /** {@code target.name()}, or null if {@code target} is null or has no such method. */
        public Object call(Object target) throws ReflectiveOperationException {
            if (target == null) {
                return null;
            }
            Method m = get(target.getClass());
            return m == null ? null : m.invoke(target, NO_ARGS);
        }

        /** As {@link #call}, expecting a socket (anything else counts as none). */
        public Socket socket(Object target) throws ReflectiveOperationException {
            Object s = call(target);
            return s instanceof Socket ? (Socket) s : null;
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

    /** A declared field read by name from the object's class or a superclass, cached per class. */
    public static final class FieldOf extends ClassValue<java.lang.reflect.Field> {
        private final String name;

        public FieldOf(String name) {
            this.name = name;
        }

        @Override
        protected java.lang.reflect.Field computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    java.lang.reflect.Field f = c.getDeclaredField(name);
                    return f.trySetAccessible() ? f : null;
                } catch (NoSuchFieldException e) {
                    // look further up
                }
            }
            return null;
        }

        public Object read(Object target) throws IllegalAccessException {
            java.lang.reflect.Field f = target == null ? null : get(target.getClass());
            return f == null ? null : f.get(target);
        }
    }
}
