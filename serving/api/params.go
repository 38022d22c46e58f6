package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/access"
)

// checkParams refuses, with a 400 naming the parameter, a request whose
// path or query parameters hold invalid UTF-8 or a NUL: no id or filter
// can hold them, and PostgreSQL refuses them as text with an error that
// would otherwise read as a bug.
func checkParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for i, name := range c.ParamNames() {
			if v := c.ParamValues()[i]; !cleanParam(v) {
				return badParam(name, v)
			}
		}
		for name, vs := range c.QueryParams() {
			for _, v := range vs {
				if !cleanParam(name) || !cleanParam(v) {
					return badParam(name, v)
				}
			}
		}
		return next(c)
	}
}

func cleanParam(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

func badParam(name, v string) error {
	return errorf(http.StatusBadRequest, "bad_request", "parameter "+strings.ToValidUTF8(name, "?")+" holds a NUL or invalid UTF-8",
		map[string]string{"parameter": strings.ToValidUTF8(name, "?"), "value": strings.ToValidUTF8(strings.ReplaceAll(v, "\x00", `\0`), "?")})
}

// queryBool reads the boolean query parameter name strictly: absent (def),
// "true" or "false"; anything else, such as "maybe" or "1", is a 400.
func queryBool(c echo.Context, name string, def bool) (bool, error) {
	switch v := c.QueryParam(name); v {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, errorf(http.StatusBadRequest, "bad_request", name+" must be true or false", map[string]string{name: v})
	}
}

// queryDate reads the date query parameter name, YYYY-MM-DD, which must
// lie where data can: from features.EarliestEvent to now plus
// features.EventLead (0001-01-01 and the year 3000 are refused, not read
// as "now" or accepted). It returns the zero time when name is absent.
func queryDate(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, errorf(http.StatusBadRequest, "bad_request", name+" must be a date, YYYY-MM-DD", map[string]string{name: v})
	}
	latest := time.Now().UTC().Add(features.EventLead())
	if t.Before(features.EarliestEvent) || t.After(latest) {
		return time.Time{}, errorf(http.StatusBadRequest, "bad_request",
			fmt.Sprintf("%s must lie from %s to %s, where data can", name, features.EarliestEvent.Format(time.DateOnly), latest.Format(time.DateOnly)),
			map[string]string{name: v})
	}
	return t, nil
}

// ownerScope reads the owner filter of a listing, ?owner=, for the
// request's key by access.Key.Scope: an owner id, "all" for every owner,
// or absent for the key's own owner (every owner for a key without one).
// It returns the owner to filter by, "" for every owner; a value that is
// no owner id is a 400.
func ownerScope(c echo.Context) (string, error) {
	key, _ := c.Get(keyContext).(access.Key)
	v := c.QueryParam("owner")
	owner, err := key.Scope(v)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "bad_request", "owner must be an account owner id or all: "+err.Error(), map[string]string{"owner": v})
	}
	return owner, nil
}
