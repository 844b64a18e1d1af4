package io.connguard.testapps.leak;

import java.io.Closeable;
import java.net.URI;

/**
 * One HTTP client as a leaky application uses it. Each implementation lives in its own file
 * ({@code LeakyApache4.java}, ...) so that the file name in a leak report's stack says which client
 * leaked; {@link LeakScenario} drives it through the modes.
 */
interface LeakyClient extends Closeable {

    /**
     * Sends {@code GET uri} and returns the response without reading or closing it: the one place
     * where the application leaks. The borrowing call and {@link Site#here()} share one source line.
     */
    Leak leak(URI uri) throws Exception;

    /** Closes, late, what {@link #leak} returned (hold mode). */
    void release(Object response) throws Exception;

    /** A well-behaved {@code GET}: reads the whole body as it arrives, closes everything; the bytes read. */
    long fetch(URI uri) throws Exception;

    /** What {@link #leak} returns: the open response (whatever the client calls it) and where it was taken. */
    record Leak(Object response, Site site) {
    }
}
