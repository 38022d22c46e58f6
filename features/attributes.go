package features

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/openchurn/churn/models"
)

// OtherCategory is the category an attribute's values outside its
// vocabulary pool into: rare values at training, unseen ones at scoring.
const OtherCategory = "(other)"

// checkAttributes refuses attribute names that are empty or repeated, and
// vocabularies of attributes not listed.
func (c Config) checkAttributes() error {
	if err := checkDictionary(c.Attributes); err != nil {
		return fmt.Errorf("features: attributes: %w", err)
	}
	for name, dict := range c.AttributeCategories {
		if !slices.Contains(c.Attributes, name) {
			return fmt.Errorf("features: attribute %q has categories but is not among the attributes %v", name, c.Attributes)
		}
		if slices.Contains(dict, OtherCategory) {
			return fmt.Errorf("features: attribute %q: category %q is the pool of the others", name, OtherCategory)
		}
		if err := checkDictionary(dict); err != nil {
			return fmt.Errorf("features: attribute %q: %w", name, err)
		}
	}
	return nil
}

// attributeCatalog returns the attribute features under c, in the order
// of c.Attributes.
func (c Config) attributeCatalog() []Feature {
	var fs []Feature
	for _, name := range c.Attributes {
		words := strings.ReplaceAll(name, "_", " ")
		fs = append(fs, Feature{Name: "attr_" + name, Group: Firmographic, Window: "at T", Unit: "code", Kind: models.Categorical,
			Description: strings.ToUpper(words[:1]) + words[1:],
			Missing:     "the account has no such attribute (or no accounts row)",
			Categories:  append(slices.Clone(c.AttributeCategories[name]), OtherCategory)})
	}
	return fs
}

// attributeCodes are the codes of each attribute's values.
type attributeCodes struct {
	names []string
	codes []map[string]float64 // per attribute: value → code; others → the pool
	other []float64            // per attribute: the pool's code
	// values holds the current account's codes.
	values []float64
}

func newAttributeCodes(c Config) attributeCodes {
	a := attributeCodes{names: c.Attributes, values: make([]float64, len(c.Attributes))}
	for _, name := range c.Attributes {
		dict := c.AttributeCategories[name]
		a.codes = append(a.codes, codes(dict))
		a.other = append(a.other, float64(len(dict)))
	}
	return a
}

// load codes the attributes of account acc, which may be nil: a missing
// or empty value is NaN, a value outside the vocabulary the pool.
func (a *attributeCodes) load(acc *Account) {
	for i, name := range a.names {
		v := ""
		if acc != nil {
			v = acc.Attributes[name]
		}
		switch code, ok := a.codes[i][v]; {
		case v == "":
			a.values[i] = math.NaN()
		case ok:
			a.values[i] = code
		default:
			a.values[i] = a.other[i]
		}
	}
}
