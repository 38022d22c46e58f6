package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
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
