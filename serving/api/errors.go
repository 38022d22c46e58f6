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

// retryAfterSeconds is the Retry-After of a 503 for an unavailable store:
// long enough for a restart or a failover, short enough for a dashboard.
const retryAfterSeconds = "5"

// statusClientGone is the status counted, in nginx's convention, for a
// request whose client went away before its answer; nobody reads it.
const statusClientGone = 499

// handleError writes err as a JSON error. Errors from the store that mean
// "not found" or "not allowed now" become 404 and 409, and those that mean
// the store cannot answer now (store.Unavailable) 503 with Retry-After and
// the code store_unavailable; a request whose client went away is logged
// at debug level. Any other error is a programming error: it is logged
// and answered as a 500 without its text, which may hold internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ctx := c.Request().Context()
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		s.log.DebugContext(ctx, "client went away", "request_id", requestID(c), "err", err)
		c.Response().WriteHeader(statusClientGone)
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
		errors.Is(err, store.ErrUnknownKey), errors.Is(err, store.ErrNoScore), errors.Is(err, store.ErrNoDelivery):
		apiErr = errorf(http.StatusNotFound, "not_found", err.Error(), nil)
	case errors.Is(err, store.ErrAlertState), errors.Is(err, trainer.ErrChecksum), errors.Is(err, store.ErrDeliveryState):
		apiErr = errorf(http.StatusConflict, "conflict", err.Error(), nil)
	case store.Unavailable(err):
		s.log.WarnContext(ctx, "store unavailable", "request_id", requestID(c), "err", err)
		apiErr = errorf(http.StatusServiceUnavailable, "store_unavailable", "the store cannot answer now; retry in "+retryAfterSeconds+" s", nil)
	default:
		s.log.ErrorContext(ctx, "request failed", "request_id", requestID(c), "err", err)
		apiErr = errorf(http.StatusInternalServerError, "internal", "internal error; see the server log for request "+requestID(c), nil)
	}
	switch apiErr.Status {
	case http.StatusTooManyRequests:
		if c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "1")
		}
	case http.StatusServiceUnavailable:
		if apiErr.Code == "store_unavailable" {
			c.Response().Header().Set("Retry-After", retryAfterSeconds)
		}
	case http.StatusRequestEntityTooLarge:
		apiErr.Message = "the body exceeds the limit of " + s.opts.BodyLimit + " (api.body_limit in churn.yaml)"
		apiErr.Details = map[string]string{"limit": s.opts.BodyLimit}
	}
	if err := c.JSON(apiErr.Status, map[string]*Error{"error": apiErr}); err != nil {
		s.log.DebugContext(ctx, "writing error response", "request_id", requestID(c), "err", err)
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
