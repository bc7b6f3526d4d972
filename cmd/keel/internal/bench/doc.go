// Package bench measures keel against rueidis and go-redis on one Redis
// Cluster, side by side: the same workloads, the same keys, the same
// goroutine counts, with the clients interleaved so that whatever else the
// machine does at the time falls on all of them alike.
//
// # What is measured
//
// For every cell — a workload at a goroutine count — each client first runs
// the load once unmeasured (a quarter of a window), so that no round pays for
// the change of cell; then each runs for Config.Duration after a warm-up of
// Config.Warmup, in rounds A B C, B C A, C A B… (Config.Rounds of them).
// Every goroutine calls the client in a closed loop: one operation, then the
// next, as fast as replies come. Per client and cell the report gives:
//
//   - requests/s: operations completed in the measured window divided by its
//     length, the median of the rounds (and each round's, in the JSON);
//   - p50 and p99 latency of one operation, from the histograms of all rounds
//     merged (drill.Histogram: within 1%);
//   - allocs/op and B/op: runtime.MemStats Mallocs and TotalAlloc over the
//     measured window divided by the operations in it. They count every
//     allocation in this process during the window — the client's, its
//     background goroutines', and the harness's, which allocates nothing per
//     operation — and none of Redis's, which runs in other processes;
//   - rd/op and wr/op: the process's read(2) and write(2) system calls over
//     the window (syscr and syscw of /proc/self/io, Linux only) divided by
//     the operations: how well a client batches its socket I/O. They include
//     reads that found nothing (EAGAIN) and the Go runtime's own netpoller
//     wake-ups through an eventfd, which amount to about 0.3 of each per
//     operation with one goroutine and next to none under load;
//   - cpu/op: the process's user and system CPU time over the window
//     (getrusage; 0 where not measured) divided by the operations: what a
//     call costs the machine on the client's side. On a machine whose cores
//     the client shares with the servers, the CPU one client saves is the
//     servers' to use, and where two clients' throughputs are level (the
//     servers' pace, or one round trip at a time) it says which is lighter;
//   - srv cpu/op: the servers' CPU time over the window (used_cpu_user and
//     used_cpu_sys of INFO cpu, summed over every server of the cluster)
//     divided by the operations: what a call costs the servers, which a
//     client decides by how many commands it hands each of their reads and
//     how many replies each of their writes carries;
//   - heap: how much the process's heap in use (runtime.MemStats.HeapInuse)
//     grew under the load, from just before the goroutines start (after a
//     GC) to the end of the window, garbage included; the largest round's;
//   - of limit: requests/s as a share of the servers' limit for the
//     workload (see below).
//
// On keel's row, keel÷rueidis and keel÷go-redis are the median over the
// rounds of keel's requests/s divided by the peer's in the same round: the
// windows of one round follow one another, so a slow spell of the machine
// weighs on both sides of each ratio.
//
// # The servers' limit
//
// Before each workload's cells, redis-benchmark --cluster, pipelined (48
// connections × 64 requests in flight for values up to 1 KiB, 12 × 8 for
// 16 KiB, 12 × 2 for 1 MiB), runs its SET then GET test against the same
// cluster, Config.Rounds times; the median is the workload's limit: what
// the servers deliver on this machine to a client that does nothing else.
// redis-benchmark runs one command per test, so it measures GET, SET and
// the 16 KiB and 1 MiB workloads; the others are measured by a raw load
// generator of this package (16 connections per primary, 64 commands in
// flight on each, raw RESP) drawing the workload's commands: MIX's GETs and
// SETs, MGET10 as 10 GETs, PIPE100 as 100, LARGEMIX's small GETs and 1 MiB
// GETs and SETs (counting the small ones). Limit.Method says which. No
// limit is measured with Config.NoLimit or without redis-benchmark on PATH.
//
// # Memory
//
// Before the matrix, Config.MemoryClients clients of each library are
// opened together, and the live heap (after a GC) is read before, after
// opening them, and after each has sent a GET to every primary; the
// servers' connected_clients counts their connections. Memory has the
// bytes per idle client, per used client, per connection, and the heap
// column of the GET row at the largest goroutine count.
//
// An operation is one call of the client's API: one GET or SET; for MGET10
// one multi-key read of 10 keys; for PIPE100 one pipeline of 100 GETs. So
// MGET10 and PIPE100 rows count batches per second, not keys.
//
// # How each client does a workload
//
// Every client is opened with its library's defaults; only the seed
// addresses are set.
//
//   - GET, SET16B, SET1KiB, MIX, GET16KiB, SET16KiB, GET1MiB, SET1MiB,
//     LARGEMIX: one command per call (keel Get/Set; rueidis Do with the
//     command builder; go-redis Get/Set). MIX is 90% GET, 10% SET of a
//     16-byte value, chosen at random per operation. LARGEMIX is 99% GETs
//     of 16-byte values and 1% GETs or SETs of 1 MiB (half each); only the
//     small requests are counted in its requests/s and latencies, so its
//     p99 is what a small request suffers behind the large ones.
//   - MGET10: 10 distinct keys, almost always in 10 different slots. keel:
//     Client.MGet, which sends one MGET per slot. rueidis: its rueidis.MGet
//     helper, which does the same (one MGET per slot, all through one
//     DoMulti) and returns a map. go-redis: a pipeline (Pipelined) of 10 GETs,
//     because ClusterClient.MGet fails with CROSSSLOT when the keys span
//     slots.
//   - PIPE100: 100 GETs in one batch: keel Pipeline (one per goroutine,
//     reused), rueidis DoMulti, go-redis Pipelined.
//
// Reads go to 10,000 keys (Config.Keys) written with 16-byte values before
// the first cell, so every GET hits; writes go to a separate set of as many
// keys, so a SET1KiB cell never changes what a later GET cell reads. The
// large values have keys of their own, fewer so that the servers hold them
// easily: 1,000 of 16 KiB and 32 of 1 MiB to read (written before the first
// cell) and as many to write.
package bench
