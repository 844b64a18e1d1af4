package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code sun.net.www.protocol.http.HttpURLConnection.getInputStream0()} (JDK 17 and 25): sends
 * the request and reads the response for {@code getInputStream}, {@code getResponseCode} and the
 * header getters, and throws for an error status. A refused response is consumed and released by
 * the hook; the advice then resets the response state the way the JDK's own redirect handling
 * does (no stream, no remembered exception, no status, not connected) and the method runs again,
 * writing the same request on a connection from the keep-alive cache or a new one.
 */
public final class UrlConnectionRetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "sun.net.www.protocol.http.HttpURLConnection";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", Exit.class).on(named("getInputStream0").and(takesArguments(0)));
    }

    public static final class Enter {
        private Enter() {
        }

        /** Only the first call that sends the request starts a retried request; later calls return early. */
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.This Object connection,
                                   @Advice.FieldValue(value = "inputStream", typing = Assigner.Typing.DYNAMIC) Object input,
                                   @Advice.FieldValue(value = "rememberedException", typing = Assigner.Typing.DYNAMIC)
                                   Object remembered) {
            if (input != null || remembered != null) {
                return null;
            }
            return ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_URLCONNECTION, connection, null);
        }
    }

    public static final class Exit {
        private Exit() {
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, repeatOn = Advice.OnNonDefaultValue.class,
                suppress = Throwable.class)
        public static boolean exit(@Advice.Enter Object call, @Advice.This Object connection,
                                   @Advice.Thrown Throwable thrown,
                                   @Advice.FieldValue(value = "responseCode", readOnly = false) int status,
                                   @Advice.FieldValue(value = "responses", typing = Assigner.Typing.DYNAMIC) Object responses,
                                   @Advice.FieldValue(value = "inputStream", readOnly = false,
                                           typing = Assigner.Typing.DYNAMIC) Object input,
                                   @Advice.FieldValue(value = "errorStream", readOnly = false,
                                           typing = Assigner.Typing.DYNAMIC) Object error,
                                   @Advice.FieldValue(value = "rememberedException", readOnly = false,
                                           typing = Assigner.Typing.DYNAMIC) Object remembered,
                                   @Advice.FieldValue(value = "http", readOnly = false,
                                           typing = Assigner.Typing.DYNAMIC) Object http,
                                   @Advice.FieldValue(value = "connected", readOnly = false) boolean connected,
                                   @Advice.FieldValue("isUserServerAuth") boolean credentials) {
            if (call == null) {
                return false;
            }
            if (!ConnGuardHooks.retryReceived(call, connection, status, responses, input, error, credentials,
                    thrown)) {
                return false;
            }
            input = null;
            error = null;
            remembered = null;
            http = null;
            connected = false;
            status = -1;
            return true;
        }
    }
}
