package recordio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// csvReader reads CSV records as encoding/csv does with its defaults,
// FieldsPerRecord -1 and ReuseRecord, and yields the same records, line
// numbers and errors. Most export lines hold no quote; those it splits at
// commas itself, at a fraction of encoding/csv's cost, which bounds how
// fast a load can decode. A record with quotes goes to encoding/csv whole.
type csvReader struct {
	r      *bufio.Reader
	line   int    // physical lines read so far
	start  int    // the line the last record started on
	record []byte // the physical lines of a record with quotes
	fields []string
}

func newCSVReader(r io.Reader) *csvReader {
	return &csvReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Line returns the line the last record read started on.
func (c *csvReader) Line() int { return c.start }

// Read returns the next record; its slice is reused by the next call. At
// the end it returns io.EOF; a malformed record yields a *csv.ParseError
// whose lines count from the start of the input.
func (c *csvReader) Read() ([]string, error) {
	for {
		raw, err := c.readLine()
		if raw == nil {
			return nil, err
		}
		line := trimLineEnd(raw, err == io.EOF)
		if len(line) == 0 {
			continue // an empty line
		}
		c.start = c.line
		if bytes.IndexByte(line, '"') >= 0 {
			return c.readQuoted(raw)
		}
		s := string(line)
		c.fields = c.fields[:0]
		for {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				break
			}
			c.fields = append(c.fields, s[:i])
			s = s[i+1:]
		}
		return append(c.fields, s), nil
	}
}

// readLine returns the next physical line as it is, line ending included,
// and counts it; io.EOF comes with the last line when it has no \n, and
// alone after it.
func (c *csvReader) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull { // a line longer than the buffer
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = c.r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if len(line) == 0 {
		return nil, err
	}
	c.line++
	return line, err
}

// trimLineEnd drops a line's \n or \r\n, or the \r that ends the input,
// as encoding/csv does.
func trimLineEnd(line []byte, last bool) []byte {
	n := len(line)
	switch {
	case n >= 2 && line[n-2] == '\r' && line[n-1] == '\n':
		return line[:n-2]
	case line[n-1] == '\n', last && line[n-1] == '\r':
		return line[:n-1]
	}
	return line
}

// readQuoted reads the record that starts with first, a line holding a
// quote, and parses it with encoding/csv from the bytes as they came. A
// quoted field may run over several lines: lines are added while a quoted
// field is open.
func (c *csvReader) readQuoted(first []byte) ([]string, error) {
	c.record = append(c.record[:0], first...)
	open, bare := scanQuotes(first, false)
	for open && !bare {
		line, _ := c.readLine()
		if line == nil {
			break // open at the end: encoding/csv reports it
		}
		c.record = append(c.record, line...)
		open, bare = scanQuotes(line, true)
	}
	r := csv.NewReader(bytes.NewReader(c.record))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		pe.StartLine += c.start - 1
		pe.Line += c.start - 1
		return nil, pe
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.Read(); err != io.EOF {
		// scanQuotes and encoding/csv disagree on where the record ends.
		return nil, &csv.ParseError{StartLine: c.start, Line: c.start, Column: 1, Err: errors.New("cannot tell where the record ends")}
	}
	c.fields = append(c.fields[:0], fields...)
	return c.fields, nil
}

// scanQuotes follows the quotes of one physical line, which starts inside
// a quoted field when open is true. It reports whether a quoted field is
// still open at the line's end, and whether the line has a quote inside a
// field that does not start with one, which encoding/csv refuses there.
func scanQuotes(line []byte, open bool) (stillOpen, bare bool) {
	for i, b := range line {
		switch {
		case b != '"':
		case open:
			open = false // a closing quote, or the first of ""
		case i == 0 || line[i-1] == ',' || line[i-1] == '"':
			open = true // a field opens, or the second of ""
		default:
			return open, true
		}
	}
	return open, false
}
