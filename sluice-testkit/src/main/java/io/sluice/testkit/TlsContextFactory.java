package io.sluice.testkit;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslServerContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.security.SecureRandom;
import javax.net.ssl.SSLException;

/**
 * Builds the server {@link SslContext}: BoringSSL when available (unless forced to the JDK),
 * TLS 1.3 and 1.2, ALPN h2 then http/1.1, session cache and tickets on. Stateless utility.
 */
final class TlsContextFactory {
    private static final int SESSION_CACHE_SIZE = 20_000;
    private static final long SESSION_TIMEOUT_SECONDS = 3_600;

    private TlsContextFactory() {
    }

    static SslContext create(MockCertificate cert, boolean forceJdk) {
        return create(cert, forceJdk, ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    }

    /** As {@link #create(MockCertificate, boolean)}, offering only {@code alpn} (in preference order). */
    static SslContext create(MockCertificate cert, boolean forceJdk, String... alpn) {
        SslProvider provider = !forceJdk && OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        try {
            SslContext ctx = SslContextBuilder.forServer(cert.privateKey(), cert.certificate())
                    .sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            alpn))
                    .sessionCacheSize(SESSION_CACHE_SIZE)
                    .sessionTimeout(SESSION_TIMEOUT_SECONDS)
                    .build();
            if (ctx instanceof OpenSslServerContext openSsl) {
                // Explicit ticket keys so TLS 1.3 PSK resumption works regardless of library defaults.
                openSsl.sessionContext().setSessionCacheEnabled(true);
                openSsl.sessionContext().setTicketKeys(randomTicketKey());
            }
            return ctx;
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the mock provider's TLS context (" + provider + ")", e);
        }
    }

    private static OpenSslSessionTicketKey randomTicketKey() {
        SecureRandom random = new SecureRandom();
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        random.nextBytes(name);
        random.nextBytes(hmac);
        random.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }
}
