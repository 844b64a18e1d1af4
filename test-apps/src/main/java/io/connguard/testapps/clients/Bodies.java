package io.connguard.testapps.clients;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;

/** What every driver does with an answer's body, written once. */
final class Bodies {

    private Bodies() {
    }

    /** Reads {@code in} to its end as the bytes arrive; the count. */
    static long drain(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            total += n;
        }
        return total;
    }

    /** {@link ClientDriver#fetch}: the status must be 200, or the request counts as failed. */
    static void expectOk(int status, URI uri) throws IOException {
        if (status != 200) {
            throw new IOException("HTTP " + status + " for GET " + uri.getPath());
        }
    }

    /** {@link ClientDriver#get}'s verdict: null for a 200 read completely, else why not. */
    static String judge(int status, long expected, long read) {
        if (status != 200) {
            return "status=" + status;
        }
        if (expected >= 0 && read != expected) {
            return "incomplete body";
        }
        return null;
    }
}
