package record

import "time"

// LinkStats are one end's link counters as a record keeps them: package
// link's Stats field for field, so the harness converts one into the other
// (LinkStats(l.Stats())) and the compiler keeps the two the same, while the
// data model links no link code. Fields are documented at link.Stats.
type LinkStats struct {
	Capacity      int    `json:"capacity"`
	CapacityLimit string `json:"capacity_limit,omitempty"`
	BudgetBytes   int    `json:"budget_bytes,omitempty"`

	Sent        uint64 `json:"sent"`
	Dropped     uint64 `json:"dropped"`
	Acked       uint64 `json:"acked"`
	Received    uint64 `json:"received"`
	MaxInFlight uint64 `json:"max_in_flight"`

	CreditWaits  uint64        `json:"credit_waits"`
	CreditWaited time.Duration `json:"credit_waited"`
	FullByBytes  uint64        `json:"full_by_bytes"`
	AckWaited    time.Duration `json:"ack_waited"`
	AcksSent     uint64        `json:"acks_sent"`
	AckRetries   uint64        `json:"ack_retries"`

	Lost       uint64 `json:"lost"`
	Duplicates uint64 `json:"duplicates"`
	Reordered  uint64 `json:"reordered"`
	Untracked  uint64 `json:"untracked"`

	ProtocolErrors uint64 `json:"protocol_errors"`
	HeaderBytes    int    `json:"header_bytes"`
	OneWayMaxNs    int64  `json:"one_way_max_ns"`
	OneWaySumNs    int64  `json:"one_way_sum_ns"`
}
