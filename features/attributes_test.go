package features_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
)

func TestAttributeFeatures(t *testing.T) {
	cfg := features.Config{
		EventFeatures:       []string{"reports"},
		Attributes:          []string{"country", "referral_source"},
		AttributeCategories: map[string][]string{"country": {"DE", "IN", "US"}, "referral_source": {"ads"}},
	}
	fs, err := cfg.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	country := fs[len(fs)-2]
	if country.Name != "attr_country" || country.Group != features.Firmographic || country.Kind != models.Categorical ||
		country.Description != "Country" || !slices.Equal(country.Categories, []string{"DE", "IN", "US", features.OtherCategory}) {
		t.Errorf("country feature %+v", country)
	}
	if got := fs[len(fs)-1]; got.Name != "attr_referral_source" || got.Description != "Referral source" {
		t.Errorf("referral source feature %+v", got)
	}
	b, err := features.NewBuilder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		attrs           map[string]string
		country, source float64
	}{
		{map[string]string{"country": "IN", "referral_source": "ads"}, 1, 0},
		{map[string]string{"country": "FR", "referral_source": "ads"}, 3, 0}, // outside the vocabulary: pooled
		{map[string]string{"country": "", "channel": "x"}, math.NaN(), math.NaN()},
		{nil, math.NaN(), math.NaN()},
	} {
		h := hist(account("smb", -10))
		h.Account.Attributes = tc.attrs
		vs, err := b.Build(h, []time.Time{asOf, asOf.Add(time.Hour)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if len(v.Values) != len(fs) {
				t.Fatalf("%d values, catalog of %d", len(v.Values), len(fs))
			}
			c, s := v.Values[len(fs)-2], v.Values[len(fs)-1]
			if !same(c, tc.country) || !same(s, tc.source) {
				t.Errorf("%v: codes %v, %v; want %v, %v", tc.attrs, c, s, tc.country, tc.source)
			}
		}
	}
	// No accounts row: missing.
	vs, err := b.Build(hist(), []time.Time{asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := vs[0].Values[len(fs)-2]; !math.IsNaN(v) {
		t.Errorf("no accounts row: country %v, want NaN", v)
	}
	for _, tc := range []struct {
		cfg  features.Config
		want string
	}{
		{features.Config{Attributes: []string{"country", "country"}}, "repeated"},
		{features.Config{Attributes: []string{"country"}, AttributeCategories: map[string][]string{"plan": {"x"}}}, `attribute "plan" has categories but is not among`},
		{features.Config{Attributes: []string{"country"}, AttributeCategories: map[string][]string{"country": {"DE", "DE"}}}, "repeated"},
		{features.Config{Attributes: []string{"country"}, AttributeCategories: map[string][]string{"country": {features.OtherCategory}}}, "pool of the others"},
	} {
		if _, err := tc.cfg.Catalog(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
