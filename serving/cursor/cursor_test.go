package cursor_test

import (
	"encoding/base64"
	"errors"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/openchurn/churn/serving/cursor"
)

// after is a listing's cursor: the last row's sort value and account id.
type after struct {
	Value     float64 `json:"v"`
	AccountID string  `json:"a"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		want        after
		ok          bool
	}{
		{"encoded", "eyJ2IjowLjI1LCJhIjoiYWNjXzAwMSJ9", after{0.25, "acc_001"}, true}, // {"v":0.25,"a":"acc_001"}
		{"field order and spaces", b64(` { "a" : "x", "v" : -3 } `), after{-3, "x"}, true},
		{"missing fields are zero", b64(`{}`), after{}, true},
		{"empty", "", after{}, false},
		{"not base64", "<script>", after{}, false},
		{"padded", "e30=", after{}, false},
		{"standard alphabet", "+/+/", after{}, false},
		{"not JSON", b64("v=1"), after{}, false},
		{"wrong type", b64(`{"v":"high"}`), after{}, false},
		{"another listing's field", b64(`{"p":0.5,"a":"x"}`), after{}, false},
		{"data after the value", b64(`{"v":1}{"v":2}`), after{}, false},
		{"truncated", b64(`{"v":1`), after{}, false},
		{"an array", b64(`[1,"x"]`), after{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cursor.Decode[after](tc.token)
			if tc.ok != (err == nil) {
				t.Fatalf("Decode(%q) = %+v, %v; want ok %v", tc.token, got, err, tc.ok)
			}
			if err != nil && !errors.Is(err, cursor.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if got != tc.want {
				t.Errorf("Decode(%q) = %+v, want %+v", tc.token, got, tc.want)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	for _, tc := range []struct {
		in   after
		want string
	}{
		{after{0.25, "acc_001"}, "eyJ2IjowLjI1LCJhIjoiYWNjXzAwMSJ9"},
		{after{}, "eyJ2IjowLCJhIjoiIn0"},
	} {
		got, err := cursor.Encode(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Encode(%+v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got, err := cursor.Encode(after{Value: x}); err == nil {
			t.Errorf("Encode(%v) = %q, want an error", x, got)
		}
	}
}

// FuzzCursor holds Decode to its contract on any token (a value or an
// error wrapping ErrInvalid, never a panic; what decodes encodes back to
// itself) and Encode to the round trip on any value JSON can carry.
func FuzzCursor(f *testing.F) {
	f.Add("eyJ2IjowLjI1LCJhIjoiYWNjXzAwMSJ9", 0.25, "acc_001")
	f.Add(b64(`{"v":1e308,"a":"\u00e9"}`), math.Copysign(0, -1), "")
	f.Add("!!", math.MaxFloat64, "a\"b\\c")
	f.Fuzz(func(t *testing.T, token string, value float64, id string) {
		if v, err := cursor.Decode[after](token); err != nil {
			if !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("Decode(%q): error %v does not wrap ErrInvalid", token, err)
			}
		} else {
			roundTrip(t, v)
		}
		// JSON holds neither non-finite floats nor invalid UTF-8, which
		// Encode replaces.
		if !math.IsNaN(value) && !math.IsInf(value, 0) && utf8.ValidString(id) {
			roundTrip(t, after{value, id})
		}
	})
}

func roundTrip(t *testing.T, v after) {
	t.Helper()
	token, err := cursor.Encode(v)
	if err != nil {
		t.Fatalf("Encode(%+v): %v", v, err)
	}
	got, err := cursor.Decode[after](token)
	if err != nil || got != v {
		t.Fatalf("Decode(Encode(%+v)) = %+v, %v", v, got, err)
	}
}

// b64 returns the token of raw JSON text s.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
