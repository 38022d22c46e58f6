package api

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/serving/access"
)

// Echo returns the server's router, so that the dashboard can mount its
// pages behind the same middleware (request ids, metrics, recovery, body
// limit, view-cache clearing on writes).
func (s *Server) Echo() *echo.Echo { return s.e }

// VerifyKey returns the active API key whose secret is key, presented by
// the client at addr (echo's RealIP), checked exactly as the API checks a
// bearer key, from the same cache and under the same throttle of failed
// authentications per address: ok is false for an empty, unknown or
// revoked key, and err is a *ThrottledError for an address that failed
// too often lately.
func (s *Server) VerifyKey(ctx context.Context, addr, key string) (k access.Key, ok bool, err error) {
	return s.verify(ctx, addr, key)
}
