"""The monthly SLA performance and service-credit report (seed: "SLA Performance Report, Monthly").

queries (database rows) → compute (pure figures) + credits (pure, the seed's credit rule) →
render_html / render_csv / render_json; cli (`escalator report`), web (GET /reports/<YYYY-MM>),
slack_post (one Block Kit summary per customer channel, through the outbox).
"""
