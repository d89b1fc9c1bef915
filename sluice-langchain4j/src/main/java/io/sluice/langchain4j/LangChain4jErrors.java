package io.sluice.langchain4j;

import io.sluice.http.sdk.ChunkInputStream;
import io.sluice.http.sdk.PooledCalls;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.exception.RetriableException;
import dev.langchain4j.exception.TimeoutException;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.ProtocolException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsFailedException;
import java.io.IOException;

/**
 * Maps Sluice failures onto LangChain4j's exceptions, which its model classes and
 * {@code RetryUtils} understand: a timeout of any phase becomes {@link TimeoutException}, other
 * I/O failures {@link RetriableException} (both retried), and failures a retry cannot fix (an
 * invalid request, a closed client, a response over a size limit) {@link NonRetriableException}.
 * HTTP error statuses are not mapped here: they are {@code HttpException}s with the status and body.
 * Messages are Sluice's: route, phase and limit, never a header value.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class LangChain4jErrors {

    private LangChain4jErrors() {
    }

    static RuntimeException map(Throwable failure) {
        Throwable t = PooledCalls.unwrap(failure);
        if (t instanceof IOException && t.getCause() instanceof SluiceHttpException s) {
            t = s; // a body read failure from ChunkInputStream
        }
        if (t instanceof LangChain4jException l) {
            return l;
        }
        if (t instanceof RequestTimeoutException rt) {
            return new TimeoutException(rt.getMessage(), rt);
        }
        if (t instanceof SluiceHttpException s) {
            return isIo(s) ? new RetriableException(s.getMessage(), s) : new NonRetriableException(s.getMessage(), s);
        }
        if (t instanceof IOException) {
            return new RetriableException(t.getMessage(), t);
        }
        return t instanceof RuntimeException r ? r : new LangChain4jException(t);
    }

    private static boolean isIo(SluiceHttpException s) {
        return s.retryable() || s instanceof ConnectionLostException || s instanceof ProtocolException
                || s instanceof TlsFailedException;
    }
}
