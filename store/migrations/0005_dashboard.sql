-- Indexes for the dashboard (dashboard.go): listing current scores by
-- expected revenue at risk, for everyone or one owner, walks an index in
-- order as the probability listing does; and the portfolio's totals by band
-- read a covering index rather than every score's detail.

CREATE INDEX current_scores_task_revenue ON current_scores (task, revenue_at_risk, account_id);
CREATE INDEX current_scores_task_owner_revenue ON current_scores (task, owner, revenue_at_risk, account_id);
CREATE INDEX current_scores_task_band ON current_scores (task, band, arr, revenue_at_risk);
