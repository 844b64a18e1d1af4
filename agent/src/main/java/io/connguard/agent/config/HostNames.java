package io.connguard.agent.config;

import java.util.Locale;

/**
 * One spelling per host, so a pattern written by a user matches the host a client names:
 * lower case, no brackets around IPv6 literals, and IPv6 in the form
 * {@code Inet6Address.getHostAddress()} gives ({@code 0:0:0:0:0:0:0:1}, not {@code ::1}), because
 * that is what {@code InetSocketAddress.getHostString()} returns for an address built from a
 * literal, i.e. what the connect path sees most often.
 */
final class HostNames {

    private HostNames() {
    }

    /**
     * The normal spelling of {@code host}; {@code host} itself, without allocating, when it is
     * already normal (the usual case on the connect path). Never throws: text that is not a
     * valid IPv6 literal is only lower-cased.
     */
    static String normalize(String host) {
        String h = host;
        int len = h.length();
        if (len >= 2 && h.charAt(0) == '[' && h.charAt(len - 1) == ']') {
            h = h.substring(1, len - 1);
        }
        if (h.indexOf(':') >= 0) {
            if (isCanonicalIpv6(h)) {
                return h;
            }
            String canonical = canonicalIpv6(h);
            return canonical != null ? canonical : h.toLowerCase(Locale.ROOT);
        }
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if ((c >= 'A' && c <= 'Z') || c >= 0x80) {
                return h.toLowerCase(Locale.ROOT);
            }
        }
        return h;
    }

    /**
     * {@code text} (without brackets, optionally with a {@code %zone}) as eight lower-case hex
     * groups without leading zeros, or {@code null} if it is not an IPv6 address.
     */
    static String canonicalIpv6(String text) {
        String address = text;
        String zone = "";
        int percent = text.indexOf('%');
        if (percent >= 0) {
            if (percent == text.length() - 1) {
                return null;
            }
            address = text.substring(0, percent);
            zone = text.substring(percent);
        }
        int[] groups = new int[8];
        int gap = address.indexOf("::");
        int count;
        if (gap < 0) {
            count = parseGroups(address, groups, true);
            if (count != 8) {
                return null;
            }
        } else {
            if (address.indexOf("::", gap + 1) >= 0) {
                return null;
            }
            int[] tail = new int[8];
            int head = parseGroups(address.substring(0, gap), groups, false);
            int tailCount = parseGroups(address.substring(gap + 2), tail, true);
            // "::" stands for at least one zero group.
            if (head < 0 || tailCount < 0 || head + tailCount > 7) {
                return null;
            }
            System.arraycopy(tail, 0, groups, 8 - tailCount, tailCount);
        }
        StringBuilder b = new StringBuilder(39 + zone.length());
        for (int i = 0; i < 8; i++) {
            if (i > 0) {
                b.append(':');
            }
            b.append(Integer.toHexString(groups[i]));
        }
        return b.append(zone).toString();
    }

    /**
     * Parses colon-separated hex groups (an empty string is zero groups) into {@code out}; the
     * last one may be a dotted IPv4 address, worth two groups. Returns the count, or -1.
     */
    private static int parseGroups(String part, int[] out, boolean ipv4Last) {
        if (part.isEmpty()) {
            return 0;
        }
        String[] pieces = part.split(":", -1);
        int n = 0;
        for (int i = 0; i < pieces.length; i++) {
            String piece = pieces[i];
            if (ipv4Last && i == pieces.length - 1 && piece.indexOf('.') >= 0) {
                long v4 = parseIpv4(piece);
                if (v4 < 0 || n + 2 > out.length) {
                    return -1;
                }
                out[n++] = (int) (v4 >>> 16);
                out[n++] = (int) (v4 & 0xffff);
                continue;
            }
            if (piece.isEmpty() || piece.length() > 4 || n == out.length) {
                return -1;
            }
            int value = 0;
            for (int j = 0; j < piece.length(); j++) {
                int digit = Character.digit(piece.charAt(j), 16);
                if (digit < 0) {
                    return -1;
                }
                value = value * 16 + digit;
            }
            out[n++] = value;
        }
        return n;
    }

    /** A dotted-quad IPv4 address as an unsigned 32-bit value, or -1. */
    private static long parseIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long value = 0;
        for (String part : parts) {
            int octet = Values.parseCount(part);
            if (part.isEmpty() || part.length() > 3 || octet < 0 || octet > 255
                    || !part.equals(part.trim())) {
                return -1;
            }
            value = value << 8 | octet;
        }
        return value;
    }

    /** Already in the form {@link #canonicalIpv6} produces? Checked without allocating. */
    private static boolean isCanonicalIpv6(String h) {
        int groups = 1;
        int digits = 0;
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if (c == '%') {
                return groups == 8 && digits > 0 && i < h.length() - 1;
            }
            if (c == ':') {
                if (digits == 0) {
                    return false;
                }
                groups++;
                digits = 0;
            } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
                if (digits == 1 && h.charAt(i - 1) == '0') {
                    return false;
                }
                if (++digits > 4) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return groups == 8 && digits > 0;
    }
}
