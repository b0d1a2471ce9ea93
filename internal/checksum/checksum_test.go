package checksum

import "testing"

func TestSum(t *testing.T) {
	b := []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 5}
	if got, want := Sum(b), uint64(1+2+1<<56+5); got != want {
		t.Fatalf("Sum = %d, want %d", got, want)
	}
	if Sum(nil) != 0 {
		t.Fatal("Sum(nil) != 0")
	}
}

// Every length and offset gives the sum of the words, whatever path of
// the loop takes them.
func TestSumEveryLength(t *testing.T) {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*37 + 11)
	}
	for n := 0; n <= len(b); n++ {
		var want uint64
		i := 0
		for ; i+8 <= n; i += 8 {
			want += uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
				uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		}
		for ; i < n; i++ {
			want += uint64(b[i])
		}
		if got := Sum(b[:n]); got != want {
			t.Fatalf("Sum of %d bytes = %d, want %d", n, got, want)
		}
	}
}

func BenchmarkSum4K(b *testing.B) {
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	for i := 0; i < b.N; i++ {
		Sum(buf)
	}
}
