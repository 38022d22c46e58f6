package main

import "testing"

func TestFailedFiles(t *testing.T) {
	tests := []struct {
		failed, total int
		want          string
	}{
		{1, 1, "the file failed and loaded nothing"},
		{2, 2, "all 2 files failed and loaded nothing"},
		{1, 2, "1 of 2 files failed and loaded nothing; the other one is loaded"},
		{2, 3, "2 of 3 files failed and loaded nothing; the other one is loaded"},
		{1, 3, "1 of 3 files failed and loaded nothing; the other 2 are loaded"},
	}
	for _, tt := range tests {
		if got := failedFiles(tt.failed, tt.total); got != tt.want {
			t.Errorf("failedFiles(%d, %d) = %q, want %q", tt.failed, tt.total, got, tt.want)
		}
	}
}
