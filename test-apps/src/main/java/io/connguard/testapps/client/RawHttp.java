package io.connguard.testapps.client;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Judges a complete HTTP/1.1 response read from a raw socket up to end-of-file
 * ({@code Connection: close}): status 200 and a body as long as {@code Content-Length} says.
 */
final class RawHttp {

    private RawHttp() {
    }

    /** @return {@code null} when the response is a complete 200, otherwise the failure reason */
    static String judge(byte[] response, int length) {
        int headerEnd = indexOf(response, length, new byte[] {'\r', '\n', '\r', '\n'});
        if (headerEnd < 0) {
            return length == 0 ? "empty response" : "incomplete response headers (" + length + " bytes)";
        }
        String head = new String(response, 0, headerEnd, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/")) {
            return "bad status line";
        }
        int status;
        try {
            status = Integer.parseInt(statusLine[1]);
        } catch (NumberFormatException e) {
            return "bad status line";
        }
        long contentLength = -1;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                contentLength = Long.parseLong(lines[i].substring(colon + 1).trim());
            }
        }
        if (status != 200) {
            return "status=" + status;
        }
        long bodyLength = length - (headerEnd + 4L);
        if (contentLength >= 0 && bodyLength != contentLength) {
            return "incomplete body";
        }
        return null;
    }

    private static int indexOf(byte[] data, int length, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
