package io.sluice.openai;

import io.sluice.http.sdk.PooledCalls;
import com.openai.errors.OpenAIException;
import com.openai.errors.OpenAIIoException;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.ProtocolException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsFailedException;

/**
 * Maps Sluice failures onto the SDK's exceptions. I/O failures, every timeout included, become
 * {@link OpenAIIoException}, which the SDK's {@code RetryingHttpClient} retries (OkHttp's
 * {@code IOException}s land there too); failures a retry cannot fix (an invalid request, a closed
 * client or transport, a response over a size limit) become a plain {@link OpenAIException},
 * which it does not retry. Messages are Sluice's: route, phase and limit, never a header value.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class OpenAIErrors {

    private OpenAIErrors() {
    }

    static RuntimeException map(Throwable failure) {
        Throwable t = PooledCalls.unwrap(failure);
        if (t instanceof OpenAIException o) {
            return o;
        }
        if (t instanceof SluiceHttpException s) {
            return isIo(s) ? new OpenAIIoException("Request failed: " + s.getMessage(), s)
                    : new OpenAIException("Request failed: " + s.getMessage(), s);
        }
        if (t instanceof java.io.IOException) {
            return new OpenAIIoException("Request failed: " + t.getMessage(), t);
        }
        return new OpenAIException("Request failed: " + t, t);
    }

    /** Whether the SDK should see this as a (retryable) I/O failure. */
    static boolean isIo(SluiceHttpException s) {
        return s.retryable() || s instanceof RequestTimeoutException || s instanceof ConnectionLostException
                || s instanceof ProtocolException || s instanceof TlsFailedException;
    }
}
