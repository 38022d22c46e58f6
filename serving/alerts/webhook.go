package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Payload is the JSON body of a webhook delivery. Text makes it a valid
// Slack incoming-webhook message; Alert carries the alert for other
// receivers, and IdempotencyKey (the alert id) lets them drop a copy.
type Payload struct {
	Text           string       `json:"text"`
	IdempotencyKey string       `json:"idempotency_key"`
	Alert          PayloadAlert `json:"alert"`
}

// PayloadAlert is the alert as a webhook delivers it.
type PayloadAlert struct {
	Alert
	AccountName string `json:"account_name,omitempty"`
}

func newPayload(a Alert, accountName string) Payload {
	who := a.AccountID
	if accountName != "" {
		who = accountName + " (" + a.AccountID + ")"
	}
	text := fmt.Sprintf("[%s] %s: %s", a.Severity, who, a.Message)
	if a.Owner != "" {
		text += " — owner " + a.Owner
	}
	return Payload{Text: text, IdempotencyKey: a.ID, Alert: PayloadAlert{Alert: a, AccountName: accountName}}
}

// SignatureHeader carries the HMAC-SHA256 of a delivery's body.
const SignatureHeader = "X-Churn-Signature"

// Sign returns the SignatureHeader value of body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is body's under secret, comparing in
// constant time. Receivers use it.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// Webhook configures delivery.
type Webhook struct {
	// URL receives every alert whose owner OwnerURLs does not name.
	URL string `yaml:"url" json:"url"`
	// OwnerURLs routes an owner's alerts to a URL of their own.
	OwnerURLs map[string]string `yaml:"owner_urls" json:"owner_urls,omitempty"`
	// Secret keys the signature; deliveries are unsigned without one.
	Secret string `yaml:"secret" json:"-"`
	// MaxAttempts is how many times a delivery is tried before it is dead.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// Backoff is the wait after the first failure; it doubles after each
	// further failure, up to MaxBackoff.
	Backoff    time.Duration `yaml:"backoff" json:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff" json:"max_backoff"`
	// Timeout bounds one attempt.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

// DefaultWebhook returns the delivery defaults: 10 attempts, backoff from
// 30 s doubling to at most 1 h (about 4.5 h in all before a delivery is
// dead), and 10 s per attempt. URL is empty: nothing is sent.
func DefaultWebhook() Webhook {
	return Webhook{MaxAttempts: 10, Backoff: 30 * time.Second, MaxBackoff: time.Hour, Timeout: 10 * time.Second}
}

// Outbox is the delivery queue a Dispatcher works from.
type Outbox interface {
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	MarkDelivered(ctx context.Context, id string, at time.Time) error
	MarkFailed(ctx context.Context, id, reason string, next time.Time, dead bool) error
}

// Dispatcher sends due deliveries from an outbox.
type Dispatcher struct {
	Outbox  Outbox
	Webhook Webhook
	Client  *http.Client // nil means http.DefaultClient
	Now     func() time.Time
	Logger  *slog.Logger // nil discards
	// Outage reports the outbox errors that are outages of its store
	// rather than bugs (store.Unavailable); nil reports none.
	Outage func(error) bool
	// Observe, when set, is told the result of every attempt: one of
	// ResultDelivered, ResultRetried and ResultDead. The server counts
	// them in churn_webhook_deliveries_total.
	Observe func(result string)
}

// The results of a delivery attempt, as Dispatcher.Observe is told them.
const (
	ResultDelivered = "delivered" // the receiver accepted it
	ResultRetried   = "retried"   // it failed and will be tried again
	ResultDead      = "dead"      // it failed for good: permanently or out of attempts
)

// logger returns d.Logger, or a logger that discards for nil.
func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Dispatcher) observe(result string) {
	if d.Observe != nil {
		d.Observe(result)
	}
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// backoff returns the wait after the attempts-th failed attempt.
func (w Webhook) backoff(attempts int) time.Duration {
	b := w.Backoff
	for i := 1; i < attempts && b < w.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, w.MaxBackoff)
}

// dispatchBatch bounds the deliveries claimed at once.
const dispatchBatch = 100

// DeliverDue sends every delivery due now, in batches, and returns how
// many were delivered and how many failed. It returns early, with an
// error, only when the outbox fails.
func (d *Dispatcher) DeliverDue(ctx context.Context) (delivered, failed int, err error) {
	log := d.logger()
	for {
		now := d.now()
		// The lease outlasts an attempt, so no other dispatcher sends a
		// delivery while this one is still waiting for the receiver.
		batch, err := d.Outbox.ClaimDeliveries(ctx, now, 2*d.Webhook.Timeout+time.Minute, dispatchBatch)
		if err != nil || len(batch) == 0 {
			return delivered, failed, err
		}
		for _, del := range batch {
			sendErr, permanent := d.send(ctx, del)
			if sendErr == nil {
				if err := d.Outbox.MarkDelivered(ctx, del.ID, d.now()); err != nil {
					return delivered, failed, err
				}
				delivered++
				d.observe(ResultDelivered)
				continue
			}
			failed++
			dead := permanent || del.Attempts >= d.Webhook.MaxAttempts
			next := d.now().Add(d.Webhook.backoff(del.Attempts))
			log.WarnContext(ctx, "webhook delivery failed", "delivery", del.ID, "alert", del.AlertID,
				"attempt", del.Attempts, "dead", dead, "next_attempt", next, "err", sendErr)
			if err := d.Outbox.MarkFailed(ctx, del.ID, sendErr.Error(), next, dead); err != nil {
				return delivered, failed, err
			}
			if dead {
				d.observe(ResultDead)
			} else {
				d.observe(ResultRetried)
			}
		}
		if len(batch) < dispatchBatch {
			return delivered, failed, nil
		}
	}
}

// send posts one delivery. permanent reports a failure that retrying
// cannot fix: no URL for the owner, or a 4xx answer other than 408 and 429.
func (d *Dispatcher) send(ctx context.Context, del Delivery) (err error, permanent bool) {
	url := d.Webhook.URL
	if u, ok := d.Webhook.OwnerURLs[del.Owner]; ok {
		url = u
	}
	if url == "" {
		return fmt.Errorf("no webhook URL for owner %q", del.Owner), true
	}
	ctx, cancel := context.WithTimeout(ctx, d.Webhook.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(del.Payload))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err), true
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", del.AlertID)
	if d.Webhook.Secret != "" {
		req.Header.Set(SignatureHeader, Sign([]byte(d.Webhook.Secret), del.Payload))
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("posting webhook: %w", err), false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil, false
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("webhook answered %s", resp.Status), true
	}
	return fmt.Errorf("webhook answered %s", resp.Status), false
}

// Run delivers due deliveries every interval until ctx is done.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		switch _, _, err := d.DeliverDue(ctx); {
		case err == nil, ctx.Err() != nil:
		case d.Outage != nil && d.Outage(err): // an outage, not a bug: the next tick retries
			d.logger().WarnContext(ctx, "webhook dispatch: store unavailable", "err", err)
		default:
			d.logger().ErrorContext(ctx, "webhook dispatch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
