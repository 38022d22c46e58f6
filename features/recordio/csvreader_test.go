package recordio

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// csvOutcome is what a reader made of an input: each record with the
// line it starts on, then the error that ended the reading.
type csvOutcome struct {
	records []string
	err     string
}

// readAllCSV reads records with read until it fails; line tells the line
// the last record started on.
func readAllCSV(read func() ([]string, error), line func() int) csvOutcome {
	var out csvOutcome
	for {
		rec, err := read()
		if err != nil {
			out.err = describeCSVError(err)
			return out
		}
		out.records = append(out.records, fmt.Sprintf("%d:%q", line(), rec))
	}
}

func readWithStdlib(input string) csvOutcome {
	r := csv.NewReader(strings.NewReader(input))
	r.FieldsPerRecord = -1
	return readAllCSV(r.Read, func() int { line, _ := r.FieldPos(0); return line })
}

func readWithCSVReader(input string) csvOutcome {
	r := newCSVReader(strings.NewReader(input))
	return readAllCSV(r.Read, r.Line)
}

// describeCSVError keeps what the Decoder reports of an error: its line
// and reason.
func describeCSVError(err error) string {
	if err == io.EOF {
		return "EOF"
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.Line, pe.Err)
	}
	return err.Error()
}

var csvReaderCases = []string{
	"",
	"a,b\n",
	"a,b",
	"a,b\r\n\r\nc,d\r\n",
	"\n\n a , b \n,\n",
	"a,b\r",
	"a,b\r\r",
	"\"\"\r\r",
	"\r\r\n",
	"a\rb,c\n",
	`a,"b,c"` + "\n" + `d,"e""f"` + "\n",
	"a,\"multi\nline\",z\nnext,row\n",
	"a,\"multi\r\nline\"\r\n",
	"a,\"open\n\nstill open",
	`a"b,c` + "\n" + "d,e\n",
	`a, "b"` + "\n",
	`"a"x,b` + "\n",
	"x,\"multi\nline\",y\"z\nafter\n",
	`"",""""` + "\n",
	"\"\"\"\n\"\n",
	"a,b\n\"c\nd\"",
	strings.Repeat("x", 70000) + ",y\nz\n",
}

// TestCSVReaderMatchesEncodingCSV checks that csvReader yields what
// encoding/csv yields: records, their lines and the error at the end.
func TestCSVReaderMatchesEncodingCSV(t *testing.T) {
	for _, input := range csvReaderCases {
		want, got := readWithStdlib(input), readWithCSVReader(input)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("input %.80q:\ngot  %v\nwant %v", input, got, want)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	for _, input := range csvReaderCases {
		f.Add(input)
	}
	f.Fuzz(func(t *testing.T, input string) {
		want, got := readWithStdlib(input), readWithCSVReader(input)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("input %q:\ngot  %v\nwant %v", input, got, want)
		}
	})
}
