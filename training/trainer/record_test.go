package trainer_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/trainer"
)

const day = dataset.Duration(24 * time.Hour)

func TestRecordRoundTrip(t *testing.T) {
	in := trainer.Record{Task: trainer.TaskChurn, Every: dataset.Span{Days: 14}, Lead: 7 * day, Horizon: 2 * 7 * day, Grace: 14 * day,
		From: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), DataEnd: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Features: features.Config{CatalogueSize: 20, KeyFeatures: []string{"reports"}}}
	b, err := trainer.EncodeRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"record_version":2`, `"horizon":"14d"`, `"every":"14d"`, `"catalogue_size":20`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("encoded record lacks %s: %s", want, b)
		}
	}
	out, err := trainer.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	in.Version = trainer.RecordVersion
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	if got := out.Outcome(); got != "churns within the 14 days that follow a lead of 7 days after the as-of date" {
		t.Errorf("outcome %q", got)
	}
}

func TestDecodeRecordRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", `{"record_version":2,"task":"churn","horizon":"30d","grace":"0d","features":{},"catalog":null,"extra":1}`, `unknown field "extra"`},
		{"newer version", `{"record_version":3,"task":"churn"}`, "version 3"},
		{"unknown task", `{"record_version":2,"task":"upsell","grace":"0d","features":{},"catalog":null}`, `unknown task "upsell"`},
		{"no horizon", `{"record_version":2,"task":"churn","grace":"0d","features":{},"catalog":null}`, "horizon 0d is not positive"},
		{"month horizon", `{"record_version":2,"task":"churn","horizon":"1m","grace":"0d","features":{},"catalog":null}`, "a month has no fixed length"},
		{"legacy span", `{"task":{"lead":"soon"},"features":{}}`, `"soon"`},
		{"not JSON", `{`, "decoding model record"},
	} {
		if _, err := trainer.DecodeRecord([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestDecodeLegacyRecords reads each shape of details document that the
// release before the typed record stored.
func TestDecodeLegacyRecords(t *testing.T) {
	for _, tc := range []struct {
		file      string
		task      string
		lead, hor dataset.Duration
		grace     dataset.Duration
		catalog   bool
		pql       bool
	}{
		{"model-2.details.json", trainer.TaskConversion, 0, 0, 0, false, true},
		{"model-3.details.json", trainer.TaskChurn, 7 * day, 30 * day, 14 * day, true, false},
	} {
		b, err := os.ReadFile(filepath.Join("../../testdata/registry/legacy", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		r, err := trainer.DecodeRecord(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if r.Task != tc.task || r.Lead != tc.lead || r.Horizon != tc.hor || r.Grace != tc.grace || (r.Catalog != nil) != tc.catalog ||
			(r.PQLThreshold > 0) != tc.pql || r.Result == nil || r.Version != trainer.RecordVersion {
			t.Errorf("%s read as task %s lead %v horizon %v grace %v catalog %d PQL %v result %v", tc.file, r.Task, r.Lead, r.Horizon,
				r.Grace, len(r.Catalog), r.PQLThreshold, r.Result != nil)
		}
		if r.Features.CatalogueSize == 0 && tc.task == trainer.TaskConversion {
			t.Errorf("%s: the demo's feature configuration was lost: %+v", tc.file, r.Features)
		}
		// A migrated record encodes in the current layout and reads back the same.
		enc, err := trainer.EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		again, err := trainer.DecodeRecord(enc)
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Errorf("%s: re-encoded record reads back differently (%v)", tc.file, err)
		}
	}
	// The demo's spans were whole days without a unit.
	r, err := trainer.DecodeRecord([]byte(`{"task":{"lead":"7","horizon":"30"},"features":{"CatalogueSize":20}}`))
	if err != nil || r.Task != trainer.TaskChurn || r.Lead != 7*day || r.Horizon != 30*day || r.Features.CatalogueSize != 20 {
		t.Errorf("demo churn shape read as %+v (%v)", r, err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"7d", 7 * 24 * time.Hour, false}, {"2w", 14 * 24 * time.Hour, false}, {"36h", 36 * time.Hour, false},
		{"0d", 0, false}, {"1m", 0, true}, {"-3d", 0, true}, {"-1h", 0, true}, {"soon", 0, true}, {"", 0, true},
	} {
		got, err := dataset.ParseDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
		if err == nil {
			if back, _ := dataset.ParseDuration(dataset.FormatDuration(got)); back != got {
				t.Errorf("FormatDuration(%v) = %q does not read back", got, dataset.FormatDuration(got))
			}
		}
	}
}
