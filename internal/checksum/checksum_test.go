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
