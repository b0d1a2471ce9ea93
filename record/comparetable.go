package record

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteComparison writes c: the environment that differs, a table of one
// figure of one case a row (old, new, the change in words, p and the
// corrected q), the cases on one side only, and what the verdicts mean;
// it returns how many figures changed significantly.
func WriteComparison(w io.Writer, c Comparison) int {
	for _, d := range c.Env {
		what := "compared anyway: comparing two versions of the code is what compare is for"
		if d.Refuse {
			what = "COMPARED ONLY BECAUSE FORCED: the two sides measured different things, so their differences are not changes"
		}
		fmt.Fprintf(w, "WARNING: %s (%s)\n", d, what)
	}
	if len(c.Env) > 0 {
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "case\tfigure\told\tnew\tchange\tp\tq\t\n")
	changed, tooFew := 0, false
	for _, d := range c.Deltas {
		format := ns
		if d.Metric == MetricMsgs.Name {
			format = rate
		}
		verdict, q := "~", fmt.Sprintf("%.3f", d.Q)
		switch {
		case d.TooFewRuns:
			verdict, q, tooFew = "? (too few runs)", "-", true
		case d.Significant:
			verdict = d.Change()
			changed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t\n", d.Key, d.Metric, d.Old.Format(format), d.New.Format(format), verdict, d.P, q)
	}
	tw.Flush()
	for _, side := range []struct {
		name string
		keys []Key
	}{{"OLD", c.OnlyOld}, {"NEW", c.OnlyNew}} {
		if len(side.keys) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nmeasured only in %s, not compared (%d):\n", side.name, len(side.keys))
		for _, k := range side.keys {
			fmt.Fprintf(w, "  %s\n", k)
		}
	}
	fmt.Fprintf(w, "\n%d of %d figures changed significantly: Mann–Whitney U over the runs' values (a run is the unit of replication), "+
		"%s correction over the %d figures with enough runs to test, alpha %.2f.\n", changed, len(c.Deltas), c.Correction, c.Tested, c.Alpha)
	fmt.Fprintln(w, "change: latency lower is faster, msgs/s higher is faster; ~: no significant change; p: the test's, q: p corrected for the number of figures.")
	if tooFew {
		fmt.Fprintf(w, "?: need >= %d runs on each side to detect a difference at alpha level %.2f; measure with more -runs.\n", RunsToDetect(c.Alpha), c.Alpha)
	}
	return changed
}
