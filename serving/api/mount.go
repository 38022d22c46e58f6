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

// VerifyKey returns the active API key whose secret is key, checked
// exactly as the API checks a bearer key and from the same cache; ok is
// false for an unknown or revoked key.
func (s *Server) VerifyKey(ctx context.Context, key string) (k access.Key, ok bool, err error) {
	return s.keys.lookup(ctx, key)
}
