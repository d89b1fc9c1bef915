package io.sluice.langchain4j;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls listener code without letting its exceptions escape into the transport, as LangChain4j's
 * own clients do; they are logged at warn level with the exception type only, since a message
 * could echo request data.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class Listeners {

    private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);

    private Listeners() {
    }

    static void safely(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("a LangChain4j listener threw {}; ignored", e.getClass().getName());
        }
    }
}
