package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipclab/ipclab/bench/cbaseline"
	"github.com/ipclab/ipclab/internal/checksum"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/transports"
)

// runCCase measures a case with the C baseline: the same counts, sizes,
// message contents and placement as the Go case, in two C processes.
// goSkipped is why the Go case was skipped, if it was: the C case meets
// the same kernel limit.
func (s Spec) runCCase(ctx context.Context, cs Case, goSkipped string) (record.Record, error) {
	r := s.newRecord(cs)
	t, err := transports.Lookup(cs.Transport)
	if err != nil {
		return r, err
	}
	mech := t.CMechanism
	if mech == "" {
		return r, fmt.Errorf("transport %s has no C baseline", cs.Transport)
	}
	if goSkipped != "" {
		r.Skipped = goSkipped
		return r, nil
	}
	sender, receiver, err := s.Placement.cpus()
	if err != nil {
		return r, err
	}
	steal0 := stealTicks()
	waits := cbaseline.Block
	if cs.Impl == record.ImplCPoll {
		waits = cbaseline.Poll
	}
	res, err := cbaseline.Run(ctx, s.CProgram, cbaseline.Args{Mechanism: mech, Mode: cs.Mode, Size: cs.Size,
		Count: r.Count, Warmup: r.Warmup, SenderCPU: sender, ReceiverCPU: receiver, Waits: waits})
	var limit *cbaseline.LimitError
	if errors.As(err, &limit) {
		r.Skipped = limit.Reason
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if r.SharedMemory && res.RingBytes != r.RingBytes {
		return r, fmt.Errorf("the C baseline's ring is %d bytes, the Go case's %d: bench/cbaseline's ring_size_for and shmchan.RingSizeFor disagree", res.RingBytes, r.RingBytes)
	}
	r.StealMs = (stealTicks() - steal0) * 10
	r.Sender, r.Receiver = res.Sender, res.Receiver
	r.Sender.PerMessage(r.Count)
	r.Receiver.PerMessage(r.Count)
	switch cs.Mode {
	case Latency:
		sum, err := record.Summarize(res.RTTNs)
		if err != nil {
			return r, err
		}
		r.RTT = &sum
		if len(res.OneWayNs) > 0 {
			ow, err := record.Summarize(res.OneWayNs)
			if err != nil {
				return r, err
			}
			r.OneWay = &ow
		}
	case Throughput:
		// The C receiver must have read what the Go sender would have sent.
		want := fmt.Sprintf("%d %d", r.Count*cs.Size, uint64(r.Count)*checksum.Sum(message(cs.Size)))
		if got := fmt.Sprintf("%d %d", res.Bytes, res.Sum); got != want || res.Confirmation != want {
			return r, fmt.Errorf("the C receiver summed %q and confirmed %q, want %q", got, res.Confirmation, want)
		}
		r.ElapsedNs = res.LastNs - res.FirstSendNs
		if r.ElapsedNs <= 0 {
			return r, fmt.Errorf("C throughput clock went backwards: first send %d, last receive %d", res.FirstSendNs, res.LastNs)
		}
		sec := float64(r.ElapsedNs) / 1e9
		r.MsgsPerSec = float64(r.Count) / sec
		r.MBPerSec = float64(r.Count*cs.Size) / sec / 1e6
	}
	return r, nil
}
