package bench

import (
	"maps"
	"time"
)

// SpecRecord is a Spec as a run manifest records it: every field with
// its defaults filled in, in plain JSON types.
type SpecRecord struct {
	Transports  []string          `json:"transports"`
	Links       []string          `json:"links"`
	Sizes       []int             `json:"sizes"`
	Modes       []string          `json:"modes"`
	Runs        int               `json:"runs"`
	Placement   string            `json:"placement"`
	Rates       []float64         `json:"rates"`
	Producers   []int             `json:"producers"`
	Count       int               `json:"count"`
	Bytes       int               `json:"bytes"`
	CaseTimeout string            `json:"case_timeout"`
	CaseFloor   string            `json:"case_floor"` // "off" when none
	CProgram    string            `json:"c_program,omitempty"`
	Delay       map[string]string `json:"testing_delay,omitempty"`
	FailCases   []string          `json:"testing_fail,omitempty"`
}

// Effective is s as the harness runs it, defaults filled in.
func (s Spec) Effective() SpecRecord {
	s = s.withDefaults()
	r := SpecRecord{Transports: s.Transports, Sizes: s.Sizes, Modes: s.Modes, Runs: s.Runs, Placement: string(s.Placement),
		Rates: s.Rates, Producers: s.Producers, Count: s.Count, Bytes: s.Bytes, CaseTimeout: s.CaseTimeout.String(),
		CProgram: s.CProgram, FailCases: s.FailCases}
	r.CaseFloor = s.CaseFloor.String()
	if s.CaseFloor < 0 {
		r.CaseFloor = "off"
	}
	for _, l := range s.Links {
		r.Links = append(r.Links, l.String())
	}
	if len(s.Delay) > 0 {
		r.Delay = map[string]string{}
		for k, d := range maps.All(s.Delay) {
			r.Delay[k] = time.Duration(d).String()
		}
	}
	return r
}
