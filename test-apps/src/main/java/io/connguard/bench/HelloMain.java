package io.connguard.bench;

/**
 * The trivial main whose process wall-clock time {@link ProcessBench} measures as JVM start-up.
 * Prints a greeting and the JVM's identity (ProcessBench reports it as "the JDK used") and exits.
 */
public final class HelloMain {

    private HelloMain() {
    }

    public static void main(String[] args) {
        long entered = System.currentTimeMillis(); // first thing: everything before it (premain included) is start-up
        System.out.println("hello");
        System.out.print("main_entered_epoch_ms=");
        System.out.println(entered);
        // No string concatenation: in Java 9+ it bootstraps invokedynamic and spins method-handle
        // classes, which would make this "trivial" main measure more than JVM start-up.
        for (String key : new String[] {"java.version", "java.vm.name", "java.vm.version", "java.vendor", "java.home"}) {
            System.out.print(key);
            System.out.print('=');
            System.out.println(System.getProperty(key));
        }
    }
}
