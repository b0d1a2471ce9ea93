#!/usr/bin/env bash
# Reproduce the reference study of results/README.md on this machine.
#
#   scripts/reproduce.sh [PLACEMENTS] [OUTDIR]
#
# PLACEMENTS is a comma-separated list of none, split and same (default:
# all three); OUTDIR defaults to results/reference. For each placement it
# writes OUTDIR/PLACEMENT (latency and throughput of every transport, Go
# and the C baseline, 5 interleaved runs) and OUTDIR/PLACEMENT/load-fanin
# (open-loop load and 1-8 producer fan-in at 64 bytes, 3 runs), each with
# records, plots and the summary table (summary.txt). Needs Go and gcc.
set -euo pipefail
placements=${1:-none,split,same}
out=${2:-results/reference}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/ipclab" ./cmd/ipclab
all=pipe,fifo,sysvmsg,posixmq,sysvshm-futex,sysvshm-sysvsem,sysvshm-spin
for p in ${placements//,/ }; do
	transports=$all
	if [ "$p" = same ]; then
		# Spinning for a peer that shares the CPU waits out a scheduler
		# tick per message (about 7.5 ms a round trip): hours, not minutes.
		transports=${all%,sysvshm-spin}
	fi
	echo "== placement $p: latency and throughput" >&2
	"$bin/ipclab" bench -pin "$p" -runs 5 -transports "$transports" -out "$out/$p" -force >/dev/null
	"$bin/ipclab" plot -summary "$out/$p" | tee "$out/$p/summary.txt"
	echo "== placement $p: open-loop load and fan-in" >&2
	"$bin/ipclab" bench -pin "$p" -runs 3 -modes load,fanin -sizes 64 -transports "$transports" -out "$out/$p/load-fanin" -force >/dev/null
	"$bin/ipclab" plot -summary "$out/$p/load-fanin" | tee "$out/$p/load-fanin/summary.txt"
done
