-- The dashboard's band filter (dashboard.go): without these, listing the
-- green accounts by risk walks every red and yellow row first, since green
-- rows come last in probability order.

CREATE INDEX current_scores_task_band_probability ON current_scores (task, band, probability, account_id);
CREATE INDEX current_scores_task_owner_band_probability ON current_scores (task, owner, band, probability, account_id);
CREATE INDEX current_scores_task_band_revenue ON current_scores (task, band, revenue_at_risk, account_id);
