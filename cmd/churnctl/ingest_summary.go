package main

import "fmt"

// failedFiles says how an ingest of total files, failed of which loaded
// nothing, ended, in words that fit every count.
func failedFiles(failed, total int) string {
	switch {
	case total == 1:
		return "the file failed and loaded nothing"
	case failed == total:
		return fmt.Sprintf("all %d files failed and loaded nothing", total)
	case total-failed == 1:
		return fmt.Sprintf("%d of %d files failed and loaded nothing; the other one is loaded", failed, total)
	}
	return fmt.Sprintf("%d of %d files failed and loaded nothing; the other %d are loaded", failed, total, total-failed)
}
