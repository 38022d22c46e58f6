package alerts_test

import (
	"fmt"

	"github.com/openchurn/churn/serving/alerts"
)

// A webhook receiver checks the X-Churn-Signature header of each delivery
// against the body with the shared secret.
func ExampleVerify() {
	secret := []byte("s3cret")
	body := []byte(`{"text":"[high] Acme (A1): health band dropped from green to red","idempotency_key":"al_1"}`)
	header := alerts.Sign(secret, body) // what the dispatcher sends
	fmt.Println(alerts.Verify(secret, body, header))
	fmt.Println(alerts.Verify(secret, append(body, ' '), header))
	// Output:
	// true
	// false
}
