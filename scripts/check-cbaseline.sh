#!/usr/bin/env bash
# Is the C baseline credible? Runs ipclab's C baseline
# (bench/cbaseline/c/ipcbench.c) and an independent plain C program
# (bench/cbaseline/c/straight.c) on the same cases, interleaved, and
# prints their medians side by side, OK when ipcbench is within the
# tolerance of straight and OFF when not (issue 13: ±15%).
#
#   scripts/check-cbaseline.sh
#
# Environment (defaults in brackets):
#   N           runs of each program per case [5]
#   LAT_COUNT   measured round trips per latency run [2000]
#   TPUT_COUNT  measured messages per throughput run [20000]
#               (both programs also run COUNT/10 unmeasured first)
#   SIZES       message sizes [64,4096]
#   MECHS       ipcbench mechanisms [pipe,sysvmsg,posixmq,shm-sysvsem,posixshm-posixsem,shm-futex,shm-spin]
#   PLACEMENTS  split, same, none [split,same]
#   SPLIT_CPUS  sender,receiver CPUs for split [0,1]
#   SAME_CPUS   ... for same [0,0]
#   TOLERANCE   percent [15]
#   KEEP        a file to keep the raw JSON lines in [none]
#
# Figures: latency is the median over runs of each run's round-trip p50
# (and p99); throughput the median of MB/s, both programs timed the same
# way: from the receiver's first measured message to its last. The ratio
# is ipcbench / straight of the figure (latency: above 1 means ipcbench is
# slower; throughput: below 1). shm-spin is left out at `same`: a spinner
# holds the CPU its peer needs until the scheduler preempts it, a tick per
# message. Needs gcc and python3. The default should take about three
# minutes on a 2-vCPU machine (estimated from a run with small counts).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-5}
LAT_COUNT=${LAT_COUNT:-2000}
TPUT_COUNT=${TPUT_COUNT:-20000}
SIZES=${SIZES:-64,4096}
MECHS=${MECHS:-pipe,sysvmsg,posixmq,shm-sysvsem,posixshm-posixsem,shm-futex,shm-spin}
PLACEMENTS=${PLACEMENTS:-split,same}
SPLIT_CPUS=${SPLIT_CPUS:-0,1}
SAME_CPUS=${SAME_CPUS:-0,0}
TOLERANCE=${TOLERANCE:-15}

for v in N LAT_COUNT TPUT_COUNT TOLERANCE; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -lt 1 ]; then
		echo "check-cbaseline: $v=${!v}: want a positive integer" >&2
		exit 2
	fi
done
for v in LAT_COUNT TPUT_COUNT; do
	if [ "${!v}" -lt 2 ]; then echo "check-cbaseline: $v must be at least 2" >&2; exit 2; fi
done
command -v gcc >/dev/null || { echo "check-cbaseline: needs gcc (apt-get install gcc)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "check-cbaseline: needs python3" >&2; exit 2; }

# straight's name for what ipcbench calls each mechanism. shm-futex has no
# plain twin: it is compared with the textbook POSIX semaphore, which is a
# different wait (a futex after a spin against a futex at once).
straight_mech() {
	case $1 in
	pipe | sysvmsg | posixmq | shm-sysvsem | shm-spin) echo "$1" ;;
	shm-futex | posixshm-posixsem) echo shm-posixsem ;;
	*) echo "check-cbaseline: no straight twin for mechanism $1" >&2; exit 2 ;;
	esac
}
cpus_of() {
	case $1 in
	split) echo "${SPLIT_CPUS/,/ }" ;;
	same) echo "${SAME_CPUS/,/ }" ;;
	none) echo "-1 -1" ;;
	*) echo "check-cbaseline: unknown placement $1 (split, same, none)" >&2; exit 2 ;;
	esac
}
for m in ${MECHS//,/ }; do straight_mech "$m" >/dev/null; done
for p in ${PLACEMENTS//,/ }; do cpus_of "$p" >/dev/null; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -o "$work/ipcbench" bench/cbaseline/c/ipcbench.c -lrt
gcc -O2 -Wall -o "$work/straight" bench/cbaseline/c/straight.c -lrt
raw=${KEEP:-$work/raw.tsv}
: >"$raw"

# run PROG PLACEMENT MECH SIZE MODE RUN ARGS...: one run, its JSON line
# appended to the raw file with the case in front; a run that fails is
# recorded as such (exit status 3: a kernel limit, skipped).
run() {
	local prog=$1 place=$2 mech=$3 size=$4 mode=$5 rep=$6
	shift 6
	local out rc=0
	out=$(timeout 300 "$work/$prog" "$@" 2>"$work/err") || rc=$?
	if [ $rc -ne 0 ]; then
		out="{\"error\":$(python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))' <"$work/err"),\"status\":$rc}"
		[ $rc -eq 3 ] || echo "check-cbaseline: $prog $* failed ($rc): $(cat "$work/err")" >&2
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$prog" "$place" "$mech" "$size" "$mode" "$rep" "$out" >>"$raw"
}

start=$(date +%s)
for place in ${PLACEMENTS//,/ }; do
	read -r tx rx <<<"$(cpus_of "$place")"
	for mech in ${MECHS//,/ }; do
		if [ "$place" = same ] && [ "$mech" = shm-spin ]; then continue; fi
		smech=$(straight_mech "$mech")
		for size in ${SIZES//,/ }; do
			for mode in latency throughput; do
				count=$LAT_COUNT
				[ $mode = throughput ] && count=$TPUT_COUNT
				warm=$((count / 10)) # what straight does by itself
				echo "== $place $mech $size $mode" >&2
				for rep in $(seq 1 "$N"); do
					# Alternate which goes first, so drift hits both alike.
					if [ $((rep % 2)) -eq 1 ]; then
						run ipcbench "$place" "$mech" "$size" "$mode" "$rep" "$mech" "$mode" "$size" "$count" "$warm" "$tx" "$rx"
						run straight "$place" "$mech" "$size" "$mode" "$rep" "$smech" "$mode" "$size" "$count" "$tx" "$rx"
					else
						run straight "$place" "$mech" "$size" "$mode" "$rep" "$smech" "$mode" "$size" "$count" "$tx" "$rx"
						run ipcbench "$place" "$mech" "$size" "$mode" "$rep" "$mech" "$mode" "$size" "$count" "$warm" "$tx" "$rx"
					fi
				done
			done
		done
	done
done
echo "== $(($(date +%s) - start)) s; $(wc -l <"$raw") runs" >&2

python3 - "$raw" "$TOLERANCE" <<'EOF'
import json, statistics, sys
from collections import defaultdict

raw, tol = sys.argv[1], float(sys.argv[2]) / 100

def quantile(xs, q):  # Hyndman-Fan type 7, as straight.c and ipclab
    xs = sorted(xs)
    h = (len(xs) - 1) * q
    lo = int(h)
    if lo + 1 >= len(xs):
        return float(xs[-1])
    return xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])

figures = defaultdict(list)  # (place, mech, size, metric, prog) -> values
order, skipped, failed = [], {}, defaultdict(int)
sums = defaultdict(set)  # (place, mech, size) -> {(bytes, sum)}: must agree
for line in open(raw):
    prog, place, mech, size, mode, rep, js = line.rstrip("\n").split("\t", 6)
    d = json.loads(js)
    metrics = ["p50", "p99"] if mode == "latency" else ["MB/s"]
    for m in metrics:
        if (place, mech, size, m) not in order:
            order.append((place, mech, size, m))
    if "error" in d:
        if d["status"] == 3:
            skipped[(place, mech, size)] = d["error"]
        else:
            failed[(place, mech, size, prog)] += 1
        continue
    if mode == "latency":
        if prog == "ipcbench":
            p50, p99 = quantile(d["rtt_ns"], 0.5), quantile(d["rtt_ns"], 0.99)
        else:
            p50, p99 = d["rtt_p50_ns"], d["rtt_p99_ns"]
        figures[(place, mech, size, "p50", prog)].append(p50)
        figures[(place, mech, size, "p99", prog)].append(p99)
    else:
        if prog == "ipcbench":
            # straight's definition: messages after the first, over the
            # time from the receiver's first measured message to its last.
            secs = (d["last_ns"] - d["first_ns"]) / 1e9
            mbs = (d["count"] - 1) * d["size"] / 1e6 / secs if secs > 0 else float("nan")
        else:
            mbs = d["mb_per_sec"]
        figures[(place, mech, size, "MB/s", prog)].append(mbs)
        sums[(place, mech, size)].add((d["bytes"], d["sum"]))

def show(place, mech, metric, v):
    if metric == "MB/s":
        return f"{v:,.1f} MB/s"
    return f"{v / 1000:,.2f} µs"

twin = {"shm-futex": "shm-posixsem"}
hdr = ("mechanism (ipcbench / straight)", "size", "mode", "placement", "ipcbench", "straight", "ratio", "")
rows = []
for place, mech, size, metric in order:
    name = mech if mech not in twin else f"{mech} / {twin[mech]}"
    mode = "throughput" if metric == "MB/s" else f"latency {metric}"
    a = figures.get((place, mech, size, metric, "ipcbench"), [])
    b = figures.get((place, mech, size, metric, "straight"), [])
    if (place, mech, size) in skipped and not (a and b):
        rows.append((name, size, mode, place, "skipped", "", "", skipped[(place, mech, size)][:60]))
        continue
    if not a or not b:
        rows.append((name, size, mode, place, "failed", "", "", ""))
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    ratio = ma / mb if mb else float("nan")
    verdict = "OK" if abs(ratio - 1) <= tol else "OFF"
    note = []
    for prog in ("ipcbench", "straight"):
        if failed[(place, mech, size, prog)]:
            note.append(f"{failed[(place, mech, size, prog)]} {prog} runs failed")
    if metric == "MB/s" and len(sums[(place, mech, size)]) > 1:
        note.append("CHECKSUMS DIFFER: the receivers did not see the same bytes")
    if len(a) < 2 or len(b) < 2:
        note.append("1 run: not a measurement")
    rows.append((name, size, mode, place, show(place, mech, metric, ma), show(place, mech, metric, mb),
                 f"{ratio:.2f}", " ".join([verdict] + note)))

widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
for r in [hdr] + rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
print(f"\nratio = ipcbench / straight; OK within ±{tol * 100:.0f}%. Latency: median over runs of each run's "
      "round-trip p50/p99. Throughput: receiver's first to last measured message.")
if any(m == "shm-futex" for _, m, _, _ in order):
    print("shm-futex / shm-posixsem compares two waits (adaptive spin then futex, against a textbook sem_t), not two "
          "implementations of one.")
if any(m == "shm-sysvsem" for _, m, _, _ in order):
    print("shm-sysvsem throughput: ipcbench's ring of slots against straight's one slot (the textbook buffer).")
EOF
