package record

// FormatNs prints nanoseconds as the summary does, with about three
// significant digits: 45.63µs, 187µs, 1.5ms.
func FormatNs(v float64) string { return ns(v) }
