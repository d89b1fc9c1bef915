package io.sluice.testkit.adversary;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.concurrent.EventExecutor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 connection of {@link AdversaryH2Server}, below Netty's HTTP/2 state machine: it
 * checks the client preface, parses frames with {@link DefaultHttp2FrameReader}, records what
 * arrives, starts a script for each new request stream, and writes whatever the scripts say with
 * {@link DefaultHttp2FrameWriter}. Nothing is validated against stream states or flow control.
 *
 * <p>Confined to the channel's event loop; one instance per channel.
 */
final class H2Connection extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(H2Connection.class);
    private static final int PREFACE_LENGTH = 24;
    private static final long LENIENT_HEADER_LIST_SIZE = 1 << 20;

    private final AdversaryH2Server server;
    private final H2ConnectionRecord record;
    private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader(false);
    private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
    private final Map<Integer, H2StreamRun> streams = new HashMap<>();
    private final Listener listener = new Listener();
    private ChannelHandlerContext ctx;
    private boolean prefaceRead;
    private boolean settingsSent;
    private boolean closed;
    private int newestStreamId;

    H2Connection(AdversaryH2Server server, H2ConnectionRecord record) {
        this.server = server;
        this.record = record;
    }

    AdversaryH2Server server() {
        return server;
    }

    EventExecutor executor() {
        return ctx.executor();
    }

    boolean isClosed() {
        return closed;
    }

    int newestStreamId() {
        return newestStreamId;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        try {
            reader.headersConfiguration().maxHeaderListSize(LENIENT_HEADER_LIST_SIZE, LENIENT_HEADER_LIST_SIZE);
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        }
        if (ctx.channel().isActive()) {
            sendSettings();
        }
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        sendSettings();
        super.channelActive(ctx);
    }

    private void sendSettings() {
        if (!settingsSent) {
            settingsSent = true;
            writeSettings(server.initialSettings());
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (!prefaceRead) {
            if (in.readableBytes() < PREFACE_LENGTH) {
                return;
            }
            ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
            try {
                if (!ByteBufUtil.equals(in, in.readerIndex(), preface, preface.readerIndex(), PREFACE_LENGTH)) {
                    log.debug("adversary h2: not an HTTP/2 client preface; closing: {}", ByteBufUtil.hexDump(in, in.readerIndex(), Math.min(64, in.readableBytes())));
                    in.skipBytes(in.readableBytes());
                    close(false);
                    return;
                }
            } finally {
                preface.release();
            }
            in.skipBytes(PREFACE_LENGTH);
            prefaceRead = true;
        }
        reader.readFrame(ctx, in, listener);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closed = true;
        record.markClosed();
        reader.close();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("adversary h2: connection {} failed; closing", record.number(), cause);
        close(false);
    }

    // ---- writes, for the scripts ----

    /** A promise that logs a failed write: the script goes on, as a server that does not check would. */
    private io.netty.channel.ChannelPromise promise() {
        io.netty.channel.ChannelPromise p = ctx.newPromise();
        p.addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("adversary h2: write failed on connection {}", record.number(), f.cause());
            }
        });
        return p;
    }

    void writeHeaders(int streamId, Http2Headers headers, boolean endStream) {
        writer.writeHeaders(ctx, streamId, headers, 0, endStream, promise());
        ctx.flush();
    }

    void writeData(int streamId, byte[] bytes, boolean endStream) {
        writer.writeData(ctx, streamId, Unpooled.wrappedBuffer(bytes), 0, endStream, promise());
        ctx.flush();
    }

    void writeRstStream(int streamId, long errorCode) {
        writer.writeRstStream(ctx, streamId, errorCode, promise());
        ctx.flush();
    }

    void writeGoAway(int lastStreamId, long errorCode) {
        writer.writeGoAway(ctx, lastStreamId, errorCode, Unpooled.EMPTY_BUFFER, promise());
        ctx.flush();
    }

    void writeSettings(Http2Settings settings) {
        writer.writeSettings(ctx, settings, promise());
        ctx.flush();
    }

    void writePing(long payload) {
        writer.writePing(ctx, false, payload, promise());
        ctx.flush();
    }

    void writeWindowUpdate(int streamId, int increment) {
        writer.writeWindowUpdate(ctx, streamId, increment, promise());
        ctx.flush();
    }

    void writeRaw(byte[] bytes) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(bytes));
    }

    /** Closes the TCP connection; {@code reset} makes it an RST (SO_LINGER 0) instead of a FIN. */
    void close(boolean reset) {
        closed = true;
        if (reset && ctx.channel().isOpen()) {
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        }
        ctx.channel().close();
    }

    /** Records every frame and starts a script for each new request stream. */
    private final class Listener extends Http2FrameAdapter {
        @Override
        public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
            record.settings();
            Long tableSize = settings.headerTableSize();
            if (tableSize != null) {
                try {
                    writer.headersConfiguration().maxHeaderTableSize(tableSize);
                } catch (Http2Exception e) {
                    log.debug("adversary h2: ignoring the client's header table size {}", tableSize, e);
                }
            }
            if (server.acksClientSettings()) {
                writer.writeSettingsAck(ctx, promise());
                ctx.flush();
            }
        }

        @Override
        public void onSettingsAckRead(ChannelHandlerContext c) {
            record.settingsAck();
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
                boolean endStream) {
            H2StreamRun run = streams.get(streamId);
            if (run == null) {
                run = open(streamId, headers);
            }
            if (endStream) {
                run.record().endStream();
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
                short weight, boolean exclusive, int padding, boolean endStream) {
            onHeadersRead(c, streamId, headers, padding, endStream);
        }

        private H2StreamRun open(int streamId, Http2Headers headers) {
            newestStreamId = Math.max(newestStreamId, streamId);
            int n = server.nextRequestNumber();
            H2StreamRecord rec = new H2StreamRecord(n, record.number(), streamId, headers);
            H2StreamRun run = new H2StreamRun(H2Connection.this, streamId, rec, server.scriptFor(n));
            streams.put(streamId, run);
            server.recordStream(rec);
            ctx.executor().execute(run::next); // after this frame is fully read
            return run;
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            int bytes = data.readableBytes();
            H2StreamRun run = streams.get(streamId);
            if (run != null) {
                run.record().addBody(bytes);
                run.onData(bytes + padding);
                if (endOfStream) {
                    run.record().endStream();
                }
            }
            return bytes + padding;
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
            H2StreamRun run = streams.get(streamId);
            if (run != null) {
                run.record().rst(errorCode);
            }
        }

        @Override
        public void onPingRead(ChannelHandlerContext c, long data) {
            record.ping(data);
            if (server.acksPings()) {
                writer.writePing(ctx, true, data, promise());
                ctx.flush();
            }
        }

        @Override
        public void onPingAckRead(ChannelHandlerContext c, long data) {
            record.pingAck(data);
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
            record.goAway(lastStreamId, errorCode);
        }

        @Override
        public void onWindowUpdateRead(ChannelHandlerContext c, int streamId, int windowSizeIncrement) {
            record.windowUpdate();
        }
    }
}
