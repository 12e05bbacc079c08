/*
 * metrics: pdsd's numbers as OpenMetrics (or Prometheus) text, on a
 * listener of its own (PDS_METRICS_ADDRESS; off by default).
 *
 * The listener serves GET /metrics and nothing else, one connection at
 * a time, on a thread of its own: a scraper is one trusted program on
 * the same machine, not the public.  PDS_METRICS_ADDRESS must be a
 * loopback address unless PDS_METRICS_PUBLIC=true (config.c refuses it
 * otherwise).  A client has METRICS_IO_MS to send its request head
 * (at most METRICS_HEAD_MAX bytes) and to take the answer.
 *
 * The answer is OpenMetrics 1.0 text
 * (application/openmetrics-text; version=1.0.0) unless the Accept
 * header asks for text/plain without asking for OpenMetrics; then it is
 * the Prometheus text format 0.0.4.  What it carries:
 *   - per XRPC method: requests, errors (4xx, 5xx) and a latency
 *     histogram with fixed buckets, counted by the HTTP layer's
 *     completion hook with relaxed atomic adds (no lock);
 *   - every stats.h counter (pdsctl stats): pds_<name with '_'>, a
 *     counter, or a gauge for STATS_GAUGE ones (commits, firehose,
 *     rate limits, offload pools, admin socket, ...);
 *   - the firehose's lag: its head's seq minus the slowest live
 *     subscriber's last seq;
 *   - the SQLite database and WAL file sizes and the WAL's bound;
 *   - what pdstui's overview reads from the database (accounts by
 *     status, records, blocks, blobs, open invites, the event log),
 *     counted at most every METRICS_COUNTS_MS;
 *   - the blob store's health and free space, labelled
 *     backend="disk" (another backend fills the same names with its own
 *     label).
 */
#ifndef PDSD_METRICS_H
#define PDSD_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct buf;

#define METRICS_IO_MS		2000
#define METRICS_HEAD_MAX	4096
#define METRICS_BODY_MAX	(4 << 20)
#define METRICS_COUNTS_MS	5000	/* database counts: at most this often */

/* Count one finished request (the HTTP completion hook). */
void	metrics_note(const char *path, unsigned status, uint64_t us);

/* Append the exposition to out: OpenMetrics, or Prometheus 0.0.4. */
int	metrics_render(struct buf *out, bool openmetrics);

#endif
