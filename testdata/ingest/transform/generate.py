#!/usr/bin/env python3
"""Writes export/, the worked example of README "Bring your own data": a
B2B SaaS export in its own shape, five tables that need a transform
(transform.sql) to become canonical records.

Deterministic (seeded); run `python3 generate.py` here to write it again.
Planted for the dry run to find: tickets of 2 accounts the CRM does not
know (3 rows), 4 tickets dated before their account's signup, 5 usage rows
repeated exactly, usage rows with 0 uses (dropped by the transform) and 12
accounts without a signup date.
"""
import csv
import datetime as dt
import os
import random

rng = random.Random(12)
START, END = dt.datetime(2024, 1, 1), dt.datetime(2024, 12, 31, 23, 59, 59)
PLANS = [("Starter", 99), ("Growth", 299), ("Scale", 899)]
FEATURES = ["dashboards", "reports", "exports", "alerts", "api", "sso", "workflows", "integrations"]
TIERS = ["SMB", "Mid Market", "Enterprise"]
COUNTRIES = ["US", "US", "US", "GB", "DE", "IN", "FR", "BR"]
CHANNELS = ["organic", "paid search", "partner", "outbound", ""]
CSMS = ["ana@vendor.example", "ben@vendor.example", "chen@vendor.example"]
TOPICS = ["billing", "bug", "how-to", "integration", "performance"]


def ts(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


def day(t):
    return t.strftime("%Y-%m-%d")


accounts, subs, usage, tickets, churns = [], [], [], [], []
n_accounts = 240
for i in range(n_accounts):
    aid = f"acc_{i:04d}"
    signup = START + dt.timedelta(days=rng.randrange(0, 240), hours=rng.randrange(8, 18))
    engagement = rng.random()
    tier = rng.choice(TIERS)
    seats = {"SMB": rng.randint(2, 10), "Mid Market": rng.randint(10, 50), "Enterprise": rng.randint(50, 200)}[tier]
    users = [f"user{j}@{aid}.example" for j in range(max(2, seats // 3))]
    accounts.append({
        "account_uuid": aid, "company_name": f"Company {i}", "tier": tier, "csm_email": rng.choice(CSMS),
        "signup_date": day(signup), "country": rng.choice(COUNTRIES), "referral_source": rng.choice(CHANNELS),
    })
    active_from, paid_from = signup, None
    if rng.random() < 0.6:  # a 14-day trial first
        trial_end = signup + dt.timedelta(days=14)
        subs.append({"subscription_id": f"sub_{aid}_trial", "account_uuid": aid, "plan_name": "Trial", "seat_count": seats,
                     "monthly_price": 0, "status": "trialing", "start_date": day(signup), "end_date": day(trial_end)})
        if rng.random() < 0.35 + 0.5 * engagement:
            paid_from = trial_end
        active_until = trial_end if paid_from is None else END
    else:
        paid_from, active_until = signup, END
    if paid_from is not None:
        plan, price = rng.choice(PLANS)
        # Churn: monthly hazard falling with engagement.
        churned, t = None, paid_from
        while t < END and churned is None:
            t += dt.timedelta(days=30)
            if t < END and rng.random() < 0.02 + 0.14 * (1 - engagement) ** 2:
                churned = t
        end = churned
        subs.append({"subscription_id": f"sub_{aid}_main", "account_uuid": aid, "plan_name": plan, "seat_count": seats,
                     "monthly_price": price, "status": "canceled" if churned else "active",
                     "start_date": day(paid_from), "end_date": day(end) if end else ""})
        if rng.random() < 0.3:  # an add-on that overlaps the main subscription
            add_from = paid_from + dt.timedelta(days=rng.randrange(20, 120))
            if add_from < (churned or END):
                add_end = churned if churned else (add_from + dt.timedelta(days=90) if rng.random() < 0.4 else None)
                if add_end and add_end > END:
                    add_end = None
                subs.append({"subscription_id": f"sub_{aid}_addon", "account_uuid": aid, "plan_name": "Analytics add-on",
                             "seat_count": 0, "monthly_price": 49, "status": "canceled" if add_end else "active",
                             "start_date": day(add_from), "end_date": day(add_end) if add_end else ""})
        if churned:
            churns.append({"account_uuid": aid, "churned_on": day(churned), "reason": rng.choice(["price", "missing feature", "moved to competitor", "budget"])})
            active_until = churned
    # Usage: keyed by subscription, fading in the six weeks before a churn.
    sub_id = f"sub_{aid}_trial" if paid_from != signup else f"sub_{aid}_main"
    d = active_from
    while d < active_until:
        if paid_from is not None and d >= paid_from:
            sub_id = f"sub_{aid}_main"
        p = 0.08 + 0.4 * engagement
        if churns and churns[-1]["account_uuid"] == aid and (active_until - d).days < 45:
            p *= 0.35
        if rng.random() < p:
            for _ in range(rng.randint(1, 2)):
                at = d.replace(hour=rng.randrange(7, 20), minute=rng.randrange(60), second=rng.randrange(60))
                uses = 0 if rng.random() < 0.02 else rng.randint(1, 6)
                usage.append({"subscription_id": sub_id, "user_email": rng.choice(users),
                              "feature_key": rng.choice(FEATURES[: 3 + int(engagement * 5)]), "used_at": ts(at), "uses": uses})
        d += dt.timedelta(days=1)
    # Tickets: more of them, and less happy, for disengaged accounts.
    t = active_from
    while t < active_until:
        if rng.random() < 0.25 + 0.8 * (1 - engagement):
            opened = t + dt.timedelta(days=rng.randrange(0, 30), hours=rng.randrange(0, 10))
            if opened < active_until:
                answered = rng.random() < 0.9
                closed = opened + dt.timedelta(hours=rng.randrange(2, 120))
                tickets.append({"ticket_number": f"T-{len(tickets) + 1000}", "account_uuid": aid, "submitted_at": ts(opened),
                                "first_response_minutes": rng.randrange(5, 600) if answered else "",
                                "closed_at": ts(closed) if answered and closed < END else "",
                                "priority": rng.choice(["low", "medium", "medium", "high", "urgent"]),
                                "topic": rng.choice(TOPICS),
                                "satisfaction": "" if rng.random() < 0.4 else max(1, min(5, round(1 + 4 * engagement + rng.uniform(-1, 1))))})
        t += dt.timedelta(days=30)

# Planted problems.
for a in accounts[-12:]:
    a["signup_date"] = ""  # no signup date: the account starts at its first record
early = [a for a in accounts if a["signup_date"]][:4]
for a in early:  # a ticket ten days before the signup
    opened = dt.datetime.strptime(a["signup_date"], "%Y-%m-%d") - dt.timedelta(days=10)
    tickets.append({"ticket_number": f"T-{len(tickets) + 1000}", "account_uuid": a["account_uuid"], "submitted_at": ts(opened),
                    "first_response_minutes": 30, "closed_at": "", "priority": "low", "topic": "how-to", "satisfaction": ""})
for aid, n in (("acc_9001", 2), ("acc_9002", 1)):  # accounts the CRM does not know
    for _ in range(n):
        tickets.append({"ticket_number": f"T-{len(tickets) + 1000}", "account_uuid": aid, "submitted_at": "2024-06-03 10:00:00",
                        "first_response_minutes": 15, "closed_at": "", "priority": "high", "topic": "billing", "satisfaction": ""})
repeats = [u for u in usage if u["uses"]][100:105]
usage.extend(dict(u) for u in repeats)  # exported twice
rng.shuffle(usage)

os.makedirs("export", exist_ok=True)
for name, rows in (("crm_accounts.csv", accounts), ("subscriptions.csv", subs), ("feature_usage.csv", usage),
                   ("helpdesk_tickets.csv", tickets), ("churn_events.csv", churns)):
    with open(os.path.join("export", name), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
print({"accounts": len(accounts), "subscriptions": len(subs), "usage": len(usage), "tickets": len(tickets), "churns": len(churns)})
