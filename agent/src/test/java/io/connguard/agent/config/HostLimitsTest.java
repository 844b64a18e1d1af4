package io.connguard.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assumptions.assumeThat;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostLimitsTest {

    private static final int FALLBACK = 7;

    private final List<String> problems = new ArrayList<>();

    private HostLimits parse(String spec) {
        return HostLimits.parse(spec, problems);
    }

    /** Every kind of pattern at once, each with its own limit, so the winner is visible. */
    private static final String ALL_KINDS = "*=1, *:443=2, *.example=3, *.example:443=4, *.corp.example=5,"
            + " *.corp.example:443=6, registry.corp.example=8, registry.corp.example:443=9";

    @ParameterizedTest(name = "{0}:{1} -> {2}")
    @CsvSource({
        // exact host:port > exact host
        "registry.corp.example, 443, 9",
        "registry.corp.example, 80, 8",
        // > longest *.suffix:port > longest *.suffix
        "a.corp.example, 443, 6",
        "a.corp.example, 80, 5",
        "b.a.corp.example, 443, 6",
        "other.example, 443, 4",
        "other.example, 80, 3",
        // > *:port > *
        "elsewhere.org, 443, 2",
        "elsewhere.org, 80, 1",
        // *.suffix needs something before the dot: the suffix itself only gets the wildcard
        "example, 80, 1",
    })
    void mostSpecificPatternWins(String host, int port, int expected) {
        HostLimits limits = parse(ALL_KINDS);
        assertThat(problems).isEmpty();
        assertThat(limits.limitFor(host, port, FALLBACK)).isEqualTo(expected);
    }

    @Test
    void specificityDoesNotDependOnEntryOrder() {
        HostLimits reversed = parse("registry.corp.example:443=9, registry.corp.example=8, *.corp.example:443=6,"
                + " *.corp.example=5, *.example:443=4, *.example=3, *:443=2, *=1");
        assertThat(reversed).isEqualTo(parse(ALL_KINDS));
        assertThat(reversed.limitFor("a.corp.example", 80, FALLBACK)).isEqualTo(5);
    }

    @Test
    void aPortSpecificSuffixBeatsALongerPortlessSuffix() {
        HostLimits limits = parse("*.a.corp.example=1, *.example:443=2");
        assertThat(limits.limitFor("x.a.corp.example", 443, FALLBACK)).isEqualTo(2);
        assertThat(limits.limitFor("x.a.corp.example", 80, FALLBACK)).isEqualTo(1);
    }

    @Test
    void anExactHostBeatsAPortSpecificSuffix() {
        HostLimits limits = parse("registry.corp.example=20, *.corp.example:443=10");
        assertThat(limits.limitFor("registry.corp.example", 443, FALLBACK)).isEqualTo(20);
    }

    @Test
    void suffixMatchesAnyDepthButNotTheBareSuffixNorAPartialLabel() {
        HostLimits limits = parse("*.corp.example=3");
        assertThat(limits.limitFor("a.corp.example", 80, FALLBACK)).isEqualTo(3);
        assertThat(limits.limitFor("b.a.corp.example", 80, FALLBACK)).isEqualTo(3);
        assertThat(limits.limitFor("corp.example", 80, FALLBACK)).isEqualTo(FALLBACK);
        assertThat(limits.limitFor("notcorp.example", 80, FALLBACK)).isEqualTo(FALLBACK);
    }

    @Test
    void noMatchFallsBackAndZeroMeansNoCapEvenOverTheFallback() {
        HostLimits limits = parse("registry.example.com=0, other.example.com=5");
        assertThat(limits.limitFor("unknown.example.com", 80, FALLBACK)).isEqualTo(FALLBACK);
        assertThat(limits.limitFor("registry.example.com", 80, FALLBACK)).isZero();
        assertThat(HostLimits.empty().limitFor("anything", 1, FALLBACK)).isEqualTo(FALLBACK);
    }

    @Test
    void hostsMatchCaseInsensitively() {
        HostLimits limits = parse("Registry.Example.COM=20, *.Corp.Example:443=10");
        assertThat(limits.limitFor("registry.example.com", 443, FALLBACK)).isEqualTo(20);
        assertThat(limits.limitFor("REGISTRY.example.com", 443, FALLBACK)).isEqualTo(20);
        assertThat(limits.limitFor("A.CORP.EXAMPLE", 443, FALLBACK)).isEqualTo(10);
        assertThat(limits.toString()).isEqualTo("registry.example.com=20,*.corp.example:443=10");
    }

    @Test
    void ipv6LiteralsInBracketsMatchEverySpellingOfTheAddress() {
        HostLimits limits = parse("[::1]:8080=4, [2001:DB8::1]=6, 127.0.0.1:8080=2");
        assertThat(problems).isEmpty();
        // As InetSocketAddress.getHostString() gives it for a literal address, as written, in brackets.
        assertThat(limits.limitFor("0:0:0:0:0:0:0:1", 8080, FALLBACK)).isEqualTo(4);
        assertThat(limits.limitFor("::1", 8080, FALLBACK)).isEqualTo(4);
        assertThat(limits.limitFor("[::1]", 8080, FALLBACK)).isEqualTo(4);
        assertThat(limits.limitFor("0000:0:0:0:0:0:0:0001", 8080, FALLBACK)).isEqualTo(4);
        assertThat(limits.limitFor("::1", 80, FALLBACK)).isEqualTo(FALLBACK);
        assertThat(limits.limitFor("2001:db8:0:0:0:0:0:1", 443, FALLBACK)).isEqualTo(6);
        assertThat(limits.limitFor("2001:DB8::1", 443, FALLBACK)).isEqualTo(6);
        assertThat(limits.limitFor("127.0.0.1", 8080, FALLBACK)).isEqualTo(2);
        assertThat(limits.toString())
                .isEqualTo("[0:0:0:0:0:0:0:1]:8080=4,127.0.0.1:8080=2,[2001:db8:0:0:0:0:0:1]=6");
    }

    @Test
    void ipv6WithEmbeddedIpv4AndZone() {
        HostLimits limits = parse("[::ffff:10.0.0.1]=3, [fe80::1%eth0]:80=5");
        assertThat(problems).isEmpty();
        assertThat(limits.limitFor("0:0:0:0:0:ffff:a00:1", 1, FALLBACK)).isEqualTo(3);
        assertThat(limits.limitFor("fe80:0:0:0:0:0:0:1%eth0", 80, FALLBACK)).isEqualTo(5);
    }

    @Test
    void whitespaceAndEmptyEntriesAreAllowed() {
        HostLimits limits = parse("  a.example = 1 ,, *:443=2 ,\t* = 3 , ");
        assertThat(problems).isEmpty();
        assertThat(limits.toString()).isEqualTo("a.example=1,*:443=2,*=3");
    }

    @Test
    void canonicalSpecParsesBackToAnEqualValue() {
        HostLimits limits = parse(ALL_KINDS + ", [::1]=2, b.example:80=1");
        assertThat(limits.toString()).isEqualTo("[0:0:0:0:0:0:0:1]=2,b.example:80=1,"
                + "registry.corp.example:443=9,registry.corp.example=8,*.corp.example:443=6,*.corp.example=5,"
                + "*.example:443=4,*.example=3,*:443=2,*=1");
        List<String> again = new ArrayList<>();
        assertThat(HostLimits.parse(limits.toString(), again)).isEqualTo(limits);
        assertThat(again).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", " , ,"})
    void blankSpecIsEmpty(String spec) {
        HostLimits limits = parse(spec);
        assertThat(limits.isEmpty()).isTrue();
        assertThat(limits.toString()).isEmpty();
        assertThat(problems).isEmpty();
        assertThat(HostLimits.empty().isEmpty()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "registry.example.com         | no '=limit'",
        "=5                           | no pattern before '='",
        "registry.example.com=-1      | limit '-1' is not a whole number >= 0",
        "registry.example.com=lots    | limit 'lots' is not a whole number >= 0",
        "registry.example.com=        | limit '' is not a whole number >= 0",
        "registry.example.com=1=2     | limit '1=2' is not a whole number >= 0",
        "registry.example.com=99999999999 | limit '99999999999' is not a whole number >= 0",
        "registry.example.com:0=1     | port '0' is not a number from 1 to 65535",
        "registry.example.com:70000=1 | port '70000' is not a number from 1 to 65535",
        "registry.example.com:=1      | port '' is not a number from 1 to 65535",
        "registry.example.com:https=1 | port 'https' is not a number from 1 to 65535",
        "::1:8080=4                   | an IPv6 address must be in brackets",
        "[::1=4                       | no ']' after the IPv6 address",
        "[::1]8080=4                  | expected ':port' after ']'",
        "[not:an:address]=4           | 'not:an:address' is not an IPv6 address",
        "[1:2:3:4:5:6:7:8:9]=4        | is not an IPv6 address",
        "[1::2::3]=4                  | is not an IPv6 address",
        "*.=1                         | suffix '' is not a host name",
        "*..example=1                 | is not a host name",
        "*example.com=1               | '*' must stand alone or start the pattern as '*.'",
        "a.*.example=1                | '*' must stand alone or start the pattern as '*.'",
        "**=1                         | '*' must stand alone or start the pattern as '*.'",
        "http://registry.example.com=1 | a pattern is a host name, not a URL",
        "registry example=1           | 'registry example' is not a host name",
        "registry.example.com.=1      | is not a host name",
    })
    void malformedEntryIsNamedAndTheOthersStillApply(String entry, String reason) {
        HostLimits limits = parse("good.example=5, " + entry + ", *=9");
        assertThat(problems).singleElement().satisfies(p -> assertThat(p)
                .startsWith("CONNGUARD_HOST_LIMITS (connguard.host.limits): invalid entry '" + entry + "'")
                .contains(reason)
                .contains("expected pattern=limit")
                .contains("*.suffix:port")
                .endsWith("entry ignored")
                .doesNotContain("\n"));
        assertThat(limits.toString()).isEqualTo("good.example=5,*=9");
    }

    @Test
    void aRepeatedPatternIsReportedAndTheLastOneApplies() {
        HostLimits limits = parse("a.example=1, A.example=2, *:443=3, *:443=4");
        assertThat(limits.limitFor("a.example", 80, FALLBACK)).isEqualTo(2);
        assertThat(limits.limitFor("b.example", 443, FALLBACK)).isEqualTo(4);
        assertThat(problems).containsExactly(
                "CONNGUARD_HOST_LIMITS (connguard.host.limits): entry 'A.example=2' repeats a pattern given"
                        + " earlier; the last entry for a pattern applies",
                "CONNGUARD_HOST_LIMITS (connguard.host.limits): entry '*:443=4' repeats a pattern given"
                        + " earlier; the last entry for a pattern applies");
    }

    @Test
    void nullHostOnlyMeetsTheWildcard() {
        assertThat(parse("a.example=1, *=2").limitFor(null, 80, FALLBACK)).isEqualTo(2);
        assertThat(parse("a.example=1").limitFor(null, 80, FALLBACK)).isEqualTo(FALLBACK);
    }

    @Test
    void limitForDoesNotAllocateForANormalHost() {
        HostLimits limits = parse(ALL_KINDS + ", [::1]:8080=4");
        java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        assumeThat(threads).isInstanceOf(com.sun.management.ThreadMXBean.class);
        com.sun.management.ThreadMXBean hotspot = (com.sun.management.ThreadMXBean) threads;
        assumeThat(hotspot.isThreadAllocatedMemorySupported()).isTrue();
        String[] hosts = {"registry.corp.example", "b.a.corp.example", "elsewhere.org", "0:0:0:0:0:0:0:1"};
        long sum = 0;
        long thread = Thread.currentThread().getId();
        long before = hotspot.getThreadAllocatedBytes(thread);
        for (int i = 0; i < 100_000; i++) {
            sum += limits.limitFor(hosts[i & 3], i % 2 == 0 ? 443 : 8080, FALLBACK);
        }
        long allocated = hotspot.getThreadAllocatedBytes(thread) - before;
        assertThat(sum).isPositive();
        // A few hundred bytes of slack for the measuring itself; one allocation per call would be megabytes.
        assertThat(allocated).isLessThan(10_000);
    }
}
