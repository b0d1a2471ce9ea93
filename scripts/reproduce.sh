#!/usr/bin/env bash
# Reproduce the reference study of results/README.md on this machine.
#
#   scripts/reproduce.sh [PLACEMENTS] [OUTDIR]
#
# PLACEMENTS is a comma-separated list of none, split and same (default:
# all three); OUTDIR defaults to results/reference. For each placement it
# writes OUTDIR/PLACEMENT (latency and throughput of every transport, Go
# and the C baseline (also waiting in ppoll, as Go's ends do, for the
# mechanisms with a descriptor), RUNS interleaved runs, and the shared-memory streams
# again through SendBatch, 64 a call) and, unless LOAD=0,
# OUTDIR/PLACEMENT/load-fanin (open-loop load and 1-8 producer fan-in at
# 64 bytes, 3 runs), each with records, plots, the summary (summary.txt:
# Go, C and Go/C per mechanism and size, and each shared-memory latency as
# a multiple of the machine's cache-line round trip) and the report.
# Needs Go and gcc.
#
#   RUNS  runs per case of the main study (default 5)
#   LOAD  0 skips the load and fan-in part (default 1)
set -euo pipefail
placements=${1:-none,split,same}
out=${2:-results/reference}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/ipclab" ./cmd/ipclab
runs=${RUNS:-5}
all=pipe,fifo,sysvmsg,posixmq,sysvshm-futex,sysvshm-sysvsem,sysvshm-spin,posixshm-futex,posixshm-posixsem,posixshm-spin,posixshm-eventfd,unixsock-stream,unixsock-seqpacket,unixsock-dgram,tcp
for p in ${placements//,/ }; do
	transports=$all
	if [ "$p" = same ]; then
		# Spinning for a peer that shares the CPU waits out a scheduler
		# tick per message (about 7.5 ms a round trip): hours, not minutes.
		transports=${all//,sysvshm-spin/}
		transports=${transports//,posixshm-spin/}
	fi
	echo "== placement $p: latency and throughput" >&2
	"$bin/ipclab" bench -pin "$p" -runs "$runs" -batch 64 -held -baseline c,c-poll -transports "$transports" -out "$out/$p" -force -format table
	if [ "${LOAD:-1}" != 0 ]; then
		echo "== placement $p: open-loop load and fan-in" >&2
		"$bin/ipclab" bench -pin "$p" -runs 3 -modes load,fanin -sizes 64 -transports "$transports" -out "$out/$p/load-fanin" -force -format table
	fi
done
