package pipeline_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/openchurn/churn/internal/pipeline"
)

// Lines are upper-cased on four workers and printed in input order. Each
// item keeps its buffer, so after the first few lines no work allocates.
func ExampleRun() {
	type line struct {
		in  string
		out []byte
	}
	input := []string{"alpha", "beta", "gamma", "delta", "epsilon"}
	read := func(_ context.Context, put pipeline.Put[line]) error {
		for _, s := range input {
			if err := put(func(l *line) { l.in = s }); err != nil {
				return err
			}
		}
		return nil
	}
	work := func(_ int, l *line) error {
		l.out = append(l.out[:0], strings.ToUpper(l.in)...)
		return nil
	}
	emit := func(l *line) error {
		fmt.Println(string(l.out))
		return nil
	}
	if err := pipeline.Run(context.Background(), pipeline.Options{Workers: 4}, read, work, emit); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ALPHA
	// BETA
	// GAMMA
	// DELTA
	// EPSILON
}
