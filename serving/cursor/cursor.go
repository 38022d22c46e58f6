package cursor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error Decode returns for a token that is
// not the cursor of a T.
var ErrInvalid = errors.New("invalid cursor")

// Encode returns the cursor of v. It fails only when v has no JSON
// encoding, such as a NaN or infinite float.
func Encode[T any](v T) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// Decode returns the value whose cursor is token. Any string either
// decodes or returns an error wrapping ErrInvalid; Decode does not panic.
// A field T does not have is an error, so that one listing's cursor is
// not taken for another's, and so is anything after the JSON value.
// Decode(Encode(v)) returns v for every v Encode accepts.
func Decode[T any](token string) (T, error) {
	var v T
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return v, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(bytes.TrimSpace(raw[d.InputOffset():])) > 0 {
		var zero T
		return zero, fmt.Errorf("%w: data after the value", ErrInvalid)
	}
	return v, nil
}
