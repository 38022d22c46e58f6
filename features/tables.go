package features

import (
	"fmt"
	"strings"
)

// Table names one canonical table. Its value is the table's name in the
// store.
type Table string

// The canonical tables, in load order: accounts first, since every other
// table refers to an account.
const (
	Accounts        Table = "accounts"
	UsageEvents     Table = "usage_events"
	Tickets         Table = "tickets"
	Escalations     Table = "escalations"
	SurveyResponses Table = "survey_responses"
	BillingChanges  Table = "billing_changes"
	// Spends (optional) holds sales and marketing spend by month and
	// channel. It refers to no account, so it is not one of Tables.
	Spends Table = "spend"
)

// Tables lists the account tables in load order: those keyed by
// account_id, which histories and features are built from.
var Tables = []Table{Accounts, UsageEvents, Tickets, Escalations, SurveyResponses, BillingChanges}

// AllTables lists every canonical table: Tables, then Spends.
var AllTables = append(Tables[:len(Tables):len(Tables)], Spends)

// columns holds each table's canonical columns in export order. The first
// column is the table's key, but for spend, keyed by its first three
// (month, channel, kind).
var columns = map[Table][]string{
	Accounts:        {"account_id", "name", "segment", "plan", "seats", "owner", "created_at", "trial_started_at", "trial_ends_at", "converted_at", "churned_at", "renewal_at", "mrr"},
	UsageEvents:     {"event_id", "account_id", "user_id", "feature", "at", "count", "duration_s", "errors"},
	Tickets:         {"ticket_id", "account_id", "opened_at", "first_response_at", "resolved_at", "priority", "category", "csat", "escalated", "agent_replies"},
	Escalations:     {"escalation_id", "account_id", "at", "direction", "severity", "note"},
	SurveyResponses: {"response_id", "account_id", "user_id", "at", "kind", "score"},
	BillingChanges:  {"change_id", "account_id", "at", "mrr", "seats", "plan", "kind"},
	Spends:          {"month", "channel", "kind", "amount"},
}

// timeColumns holds the column that orders each event table in time; the
// store indexes (account_id, time column).
var timeColumns = map[Table]string{
	UsageEvents:     "at",
	Tickets:         "opened_at",
	Escalations:     "at",
	SurveyResponses: "at",
	BillingChanges:  "at",
	Spends:          "month",
}

// aliases maps the names export files commonly carry to canonical tables.
var aliases = map[string]Table{
	"account": Accounts, "accounts": Accounts,
	"usage": UsageEvents, "usage_events": UsageEvents, "usage_event": UsageEvents, "events": UsageEvents,
	"ticket": Tickets, "tickets": Tickets,
	"escalation": Escalations, "escalations": Escalations,
	"survey": SurveyResponses, "surveys": SurveyResponses, "survey_responses": SurveyResponses, "nps": SurveyResponses,
	"billing": BillingChanges, "billing_changes": BillingChanges, "billing_change": BillingChanges,
	"spend": Spends, "spends": Spends, "marketing_spend": Spends,
}

// ParseTable returns the table that name stands for. It accepts canonical
// names and common aliases ("usage", "surveys", "billing"), in any case,
// with hyphens or underscores.
func ParseTable(name string) (Table, error) {
	key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
	if t, ok := aliases[key]; ok {
		return t, nil
	}
	return "", fmt.Errorf("unknown table %q (want one of %v)", name, AllTables)
}

// Columns returns the table's canonical columns in export order; the first
// is its key. The slice must not be modified.
func (t Table) Columns() []string { return columns[t] }

// Key returns the name of the table's key column.
func (t Table) Key() string { return columns[t][0] }

// TimeColumn returns the column that orders an event table in time, or ""
// for the accounts table.
func (t Table) TimeColumn() string { return timeColumns[t] }
