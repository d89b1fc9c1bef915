package io.sluice.testkit.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An authoritative DNS server over UDP on loopback for tests: answers A and AAAA questions for the
 * names it is given, with the TTL it is given, NXDOMAIN for the rest, and counts the questions per
 * name, so a test sees whether a resolver cached an answer, honoured its TTL, or asked again. Names
 * and answers may change while it runs (a provider moving its endpoints).
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> owns one event-loop thread and its socket;
 * {@link #close()} releases both.
 */
public final class TestDnsServer implements AutoCloseable {

    /** What one name answers. */
    private record Answer(List<InetAddress> addresses, long ttlSeconds) {
    }

    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> questions = new ConcurrentHashMap<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;

    private TestDnsServer() throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new Responder());
                    }
                }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    }

    /** Starts a server on a free loopback UDP port. */
    public static TestDnsServer start() {
        try {
            return new TestDnsServer();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sets (or replaces) the answer for {@code name}: these addresses, with this TTL in seconds. */
    public TestDnsServer answer(String name, long ttlSeconds, InetAddress... addresses) {
        answers.put(key(name), new Answer(List.of(addresses), ttlSeconds));
        return this;
    }

    /** Questions asked about {@code name} so far (A and AAAA counted separately). */
    public int questions(String name) {
        AtomicInteger n = questions.get(key(name));
        return n == null ? 0 : n.get();
    }

    /** The address resolvers send their questions to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    private static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
    }

    /** Answers each question on the event loop. */
    private final class Responder extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.setRecursionDesired(query.isRecursionDesired()).setAuthoritativeAnswer(true);
            if (q == null) {
                ctx.writeAndFlush(response.setCode(DnsResponseCode.FORMERR));
                return;
            }
            String name = key(q.name());
            questions.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
            response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(q.name(), q.type(), q.dnsClass()));
            Answer a = answers.get(name);
            if (a == null) {
                ctx.writeAndFlush(response.setCode(DnsResponseCode.NXDOMAIN));
                return;
            }
            for (InetAddress address : a.addresses()) {
                boolean wanted = q.type() == DnsRecordType.A ? address instanceof Inet4Address
                        : q.type() == DnsRecordType.AAAA && address instanceof Inet6Address;
                if (wanted) {
                    response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), q.type(), a.ttlSeconds(),
                            Unpooled.wrappedBuffer(address.getAddress())));
                }
            }
            ctx.writeAndFlush(response);
        }
    }
}
