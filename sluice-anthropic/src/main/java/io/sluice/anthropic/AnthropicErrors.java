package io.sluice.anthropic;

import io.sluice.http.sdk.PooledCalls;
import com.anthropic.errors.AnthropicException;
import com.anthropic.errors.AnthropicIoException;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.ProtocolException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsFailedException;

/**
 * Maps Sluice failures onto the SDK's exceptions. I/O failures, every timeout included, become
 * {@link AnthropicIoException}, which the SDK's {@code RetryingHttpClient} retries (OkHttp's
 * {@code IOException}s land there too); failures a retry cannot fix (an invalid request, a closed
 * client or transport, a response over a size limit) become a plain {@link AnthropicException},
 * which it does not retry. Messages are Sluice's: route, phase and limit, never a header value.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class AnthropicErrors {

    private AnthropicErrors() {
    }

    static RuntimeException map(Throwable failure) {
        Throwable t = PooledCalls.unwrap(failure);
        if (t instanceof AnthropicException a) {
            return a;
        }
        if (t instanceof SluiceHttpException s) {
            return isIo(s) ? new AnthropicIoException("Request failed: " + s.getMessage(), s)
                    : new AnthropicException("Request failed: " + s.getMessage(), s);
        }
        if (t instanceof java.io.IOException) {
            return new AnthropicIoException("Request failed: " + t.getMessage(), t);
        }
        return new AnthropicException("Request failed: " + t, t);
    }

    /** Whether the SDK should see this as a (retryable) I/O failure. */
    static boolean isIo(SluiceHttpException s) {
        return s.retryable() || s instanceof RequestTimeoutException || s instanceof ConnectionLostException
                || s instanceof ProtocolException || s instanceof TlsFailedException;
    }
}
