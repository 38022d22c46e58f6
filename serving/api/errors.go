package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/trainer"
)

// Error is the body of every error response:
//
//	{"error": {"code": "not_found", "message": "…", "details": …}}
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorf returns an *Error.
func errorf(status int, code, message string, details any) *Error {
	return &Error{Status: status, Code: code, Message: message, Details: details}
}

// codes names the error code of each status echo itself may answer with.
var codes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "invalid_records",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
}

// handleError writes err as a JSON error. Errors from the store that mean
// "not found" or "not allowed now" become 404 and 409; any other error is
// logged and answered as a 500 without its text, which may hold internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var (
		apiErr  *Error
		httpErr *echo.HTTPError
	)
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &httpErr):
		msg, _ := httpErr.Message.(string)
		if msg == "" {
			msg = http.StatusText(httpErr.Code)
		}
		code := codes[httpErr.Code]
		if code == "" {
			code = "error"
		}
		apiErr = errorf(httpErr.Code, code, msg, nil)
	case errors.Is(err, store.ErrNoAlert), errors.Is(err, store.ErrNoAccount), errors.Is(err, trainer.ErrModelNotFound),
		errors.Is(err, store.ErrUnknownKey), errors.Is(err, store.ErrNoScore):
		apiErr = errorf(http.StatusNotFound, "not_found", err.Error(), nil)
	case errors.Is(err, store.ErrAlertState), errors.Is(err, trainer.ErrChecksum):
		apiErr = errorf(http.StatusConflict, "conflict", err.Error(), nil)
	default:
		s.log.ErrorContext(c.Request().Context(), "request failed", "request_id", requestID(c), "err", err)
		apiErr = errorf(http.StatusInternalServerError, "internal", "internal error; see the server log for request "+requestID(c), nil)
	}
	if apiErr.Status == http.StatusTooManyRequests {
		c.Response().Header().Set("Retry-After", "1")
	}
	if err := c.JSON(apiErr.Status, map[string]*Error{"error": apiErr}); err != nil {
		s.log.ErrorContext(c.Request().Context(), "writing error response", "err", err)
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
