package io.sluice.pool;

/**
 * Which connection a new lease goes to when several multiplexed connections (HTTP/2) have room.
 * Connections of capacity 1 (HTTP/1.1) are always reused most-recent-first, whatever this says.
 *
 * <p><b>Thread-safety:</b> an enum; immutable.
 */
public enum StreamPlacement {
    /**
     * The less loaded of two connections picked at random (power of two choices, as Envoy's
     * least-request balancer does): streams spread over every open connection, so a server that
     * serves each connection from one worker (nginx, Envoy, most provider edges) gets its load on
     * all workers, and no connection carries the head-of-line blocking of a full window alone.
     * Not the default: against nginx (two workers, TLS, 128 streams per connection) on two cores,
     * 256 requests in flight ran at 11 491 and 16 671 requests/s and 139 and 92 µs of client CPU
     * each with it, against 22 177 and 21 952 requests/s and 75 µs packed: streams spread over every
     * open connection keep all of them busy, so none goes idle and the pool grows towards its
     * maximum (68 to 101 connections), and each request costs more reads, writes and TLS records.
     * An open connection in use is never idle, so connections above {@code minIdle} close only once
     * the load has stopped for the idle timeout.
     */
    SPREAD,
    /**
     * The first connection with room, scanning from the one that last had room: as few connections
     * as possible carry the streams, and the rest go idle and close. For when the number of
     * connections matters more than spreading the load (a server that limits connections per
     * client, or memory at very many routes). The default: fewest reads, writes and TLS records
     * per request.
     */
    PACK
}
